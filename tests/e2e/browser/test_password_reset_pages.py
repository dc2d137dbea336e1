"""Resetting a forgotten password in a real browser (Debian's headless
Chromium), with JavaScript off (the pages need none): "Forgot your
password?", "Email me a link", the link in the message a real SMTP relay
received, a new password, then signing in with it. Every page goes through
axe (a script, so in a browser with scripts on).

The rules in detail (one answer for every address, single use, CSRF, stale
links) are covered cheaper without a browser in
tests/integration/pages/test_password_reset_pages.py.
"""

import re
from collections.abc import Callable

from playwright.sync_api import BrowserContext, expect

from tests.support import mailbox
from tests.support.actions import Actions, random_email
from tests.support.browser import MARKS, check_page
from tests.support.live import LiveServer
from tests.support.smtp import Inbox, eventually, smtp_server

pytestmark = MARKS

NEW_PASSWORD = "a brand new passphrase 42"
LINK = re.compile(r"(http://\S+/reset\?token=\S+)")


def delivered_link(inbox: Inbox, to: str) -> str:
    """The reset link in the message the relay received for ``to``."""

    def find() -> str | None:
        for message in inbox.messages:
            if message["To"] == to and message["Subject"] == "Reset your password":
                body = message.get_body(("plain",))
                assert body is not None
                found = LINK.search(body.get_content())
                return found[1] if found else None
        return None

    return str(eventually(find))


def test_a_forgotten_password_reset_from_a_delivered_link_without_javascript(
    start_server: Callable[..., LiveServer],
    contexts: Callable[..., BrowserContext],
) -> None:
    with smtp_server() as (inbox, port):
        server = start_server(
            smtp_url=f"smtp://127.0.0.1:{port}", mail_from="auth@example.com"
        )
        email = random_email()
        with server.client() as http:
            ada = Actions(http).user(email=email)
            mailbox.verify(server, http, email)
        page = contexts(java_script_enabled=False).new_page()
        page.goto(f"{server.url}/login")
        page.get_by_role("link", name="Forgot your password?").click()
        page.get_by_label("Email address").fill(email)
        page.get_by_role("button", name="Email me a link").click()
        expect(page.get_by_role("status")).to_contain_text("A message is on its way")

        link = delivered_link(inbox, email)
    # The mail may be read anywhere: here, another browser.
    reader = contexts(java_script_enabled=False).new_page()
    reader.goto(link)
    expect(reader.get_by_role("heading", name="Choose a new password")).to_be_visible()
    reader.get_by_label("New password").fill(NEW_PASSWORD)
    reader.get_by_role("button", name="Set new password").click()
    expect(reader.get_by_role("status")).to_contain_text("Your password is changed")
    reader.get_by_role("link", name="Sign in").click()
    reader.get_by_label("Username").fill(ada.username)
    reader.get_by_label("Password").fill(NEW_PASSWORD)
    reader.get_by_role("button", name="Sign in", exact=True).click()
    expect(reader).to_have_url(re.compile(r"/settings"))


def test_the_pages_are_accessible(
    server: LiveServer,
    actions: Actions,
    contexts: Callable[..., BrowserContext],
) -> None:
    email = random_email()
    actions.user(email=email)
    mailbox.verify(server, actions.client, email)
    page = contexts().new_page()
    page.goto(f"{server.url}/forgot")
    check_page(page, "forgot")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("status")).to_contain_text("A message is on its way")
    check_page(page, "forgot-sent")

    page.goto(mailbox.last(server, email, "reset_password").values["link"])
    check_page(page, "reset")
    page.get_by_label("New password").fill("short")
    page.evaluate("document.querySelector('form').noValidate = true")
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_role("alert")).to_contain_text("at least")
    # zxcvbn's estimate and advice, so the next try can be a better one
    expect(page.get_by_role("alert")).to_contain_text(
        "Strength 0 of 4: A word by itself is easy to guess. Add another word or two."
    )
    check_page(page, "reset-weak")
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password is changed")
    check_page(page, "reset-done")
    page.goto(f"{server.url}/reset?token=ag_evt_nonsense")
    check_page(page, "reset-bad-link")
