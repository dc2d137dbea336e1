"""Verifying an address in a real browser (Debian's headless Chromium): a new
address asked for in Settings → Profile, the page its mailed link opens,
which changes nothing until its button is pressed (with JavaScript off: the
pages need none), then the profile saying the new address is verified.
Every page goes through axe (a script, so in a browser with scripts on)
and, on demand, a screenshot.

The rules in detail (single use, CSRF, stale links) are covered cheaper
without a browser in tests/integration/pages/test_verify_email_pages.py.
"""

from collections.abc import Callable

from playwright.sync_api import BrowserContext, expect

from tests.support import mailbox
from tests.support.actions import Actions, random_email
from tests.support.browser import MARKS, check_page, open_signed_in
from tests.support.live import LiveServer

pytestmark = MARKS


def test_a_new_address_confirmed_from_its_link_without_javascript(
    server: LiveServer,
    actions: Actions,
    contexts: Callable[..., BrowserContext],
) -> None:
    old = random_email()
    ada = actions.user(email=old)
    mailbox.verify(server, actions.client, old)
    page = open_signed_in(
        contexts, server, ada.username, "/settings/profile", java_script_enabled=False
    )
    expect(page.get_by_text("(verified)")).to_be_visible()
    new = random_email()
    page.get_by_label("Email", exact=True).fill(new)
    page.get_by_role("button", name="Save email").click()
    expect(page.get_by_role("status")).to_contain_text("We sent a link")
    expect(page.get_by_text(f"Waiting for {new}")).to_be_visible()

    link = mailbox.last(server, new, "verify_email").values["link"]
    # The mail may be read anywhere: here, a browser with no session.
    reader = contexts(java_script_enabled=False).new_page()
    reader.goto(link)
    heading = reader.get_by_role("heading", name="Confirm your email address")
    expect(heading).to_be_visible()
    reader.get_by_role("button", name="Confirm my address").click()
    expect(reader.get_by_role("status")).to_contain_text(f"{new} is confirmed")
    reader.goto(link)
    reader.get_by_role("button", name="Confirm my address").click()
    expect(reader.get_by_role("alert")).to_contain_text("does not work any more")

    page.reload()
    expect(page.get_by_text(new, exact=True)).to_be_visible()
    expect(page.get_by_text("(verified)")).to_be_visible()
    expect(page.get_by_role("button", name="Resend link")).to_have_count(0)


def test_the_pages_are_accessible(
    server: LiveServer,
    actions: Actions,
    contexts: Callable[..., BrowserContext],
) -> None:
    email = random_email()
    ada = actions.user(email=email)
    page = open_signed_in(contexts, server, ada.username, "/settings/profile")
    expect(page.get_by_text("(not verified)")).to_be_visible()
    page.get_by_role("button", name="Resend link").click()
    expect(page.get_by_role("status")).to_contain_text("We sent you a new link")
    check_page(page, "settings-profile-unverified")

    link = mailbox.last(server, email, "verify_email").values["link"]
    page.goto(link)
    check_page(page, "verify-email")
    page.get_by_role("button", name="Confirm my address").click()
    expect(page.get_by_role("status")).to_contain_text(f"{email} is confirmed")
    check_page(page, "verify-email-done")
    page.goto(link)
    page.get_by_role("button", name="Confirm my address").click()
    expect(page.get_by_role("alert")).to_contain_text("does not work any more")
    check_page(page, "verify-email-used")
