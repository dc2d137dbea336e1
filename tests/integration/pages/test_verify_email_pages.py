"""``/verify-email`` and Settings → Profile over plain HTTP: opening a link
changes nothing (mail scanners fetch links), its form confirms the address
once, a change keeps the old address until the new one is confirmed and
tells the old one, and each refusal is a plain page."""

import html
import re
from collections.abc import Iterator

import httpx
import pytest

from tests.support import mailbox
from tests.support.actions import PASSWORD, Actions, Login, random_email
from tests.support.live import LiveServer
from tests.support.pages import CSRF, form_token, post, signed_in

pytestmark = pytest.mark.e2e

PAGE = "/verify-email"


@pytest.fixture
def browser(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as http:
        yield http


def me(server: LiveServer, login: Login) -> dict[str, object]:
    with server.client() as http:
        response = http.get("/api/v1/me", headers=login.bearer)
    assert response.status_code == 200, response.text
    return dict(response.json())


def open_link(http: httpx.Client, token: str) -> tuple[httpx.Response, str]:
    """The page a link opens, and its form's CSRF token."""
    page = http.get(PAGE, params={"token": token})
    assert page.status_code == 200, page.text
    match = CSRF.search(page.text)
    assert match, page.text
    return page, match[1]


def confirm(http: httpx.Client, csrf: str | None, token: str) -> httpx.Response:
    """The page's "Confirm" form, posted same-origin (no form token when
    ``csrf`` is ``None``)."""
    fields = {"token": token, **({"csrf_token": csrf} if csrf is not None else {})}
    return http.post(
        PAGE, data=fields, headers={"Origin": str(http.base_url).rstrip("/")}
    )


def test_opening_the_link_asks_and_only_the_form_confirms(
    server: LiveServer, browser: httpx.Client, actions: Actions
) -> None:
    email = random_email()
    ada = actions.user(email=email)
    token = mailbox.link_token(mailbox.last(server, email, "verify_email"))
    for _ in range(2):  # a scanner's fetch, then the person's
        page, csrf = open_link(browser, token)
    assert "Confirm your email address" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert me(server, ada)["email_verified"] is False
    done = confirm(browser, csrf, token)
    assert done.status_code == 200, done.text
    assert f"{email} is confirmed" in html.unescape(done.text)
    assert me(server, ada)["email_verified"] is True
    page, csrf = open_link(browser, token)
    used = confirm(browser, csrf, token)
    assert used.status_code == 400
    assert "does not work any more" in used.text
    assert "Traceback" not in used.text


def test_the_form_needs_its_token_and_this_sites_origin(
    server: LiveServer, browser: httpx.Client, actions: Actions
) -> None:
    email = random_email()
    ada = actions.user(email=email)
    token = mailbox.link_token(mailbox.last(server, email, "verify_email"))
    _page, csrf = open_link(browser, token)
    assert confirm(browser, None, token).status_code == 403
    assert confirm(browser, "forged", token).status_code == 403
    cross_site = browser.post(
        PAGE,
        data={"token": token, "csrf_token": csrf},
        headers={"Origin": "https://evil.example"},
    )
    assert cross_site.status_code == 403
    with server.client() as other:  # the token is bound to this browser's cookie
        assert confirm(other, csrf, token).status_code == 403
    assert me(server, ada)["email_verified"] is False  # the link still works
    assert confirm(browser, csrf, token).status_code == 200


@pytest.mark.parametrize(
    "token", ["", "not-a-token", "ag_evt_" + "A" * 49, "ag_evt_" + "A" * 500]
)
def test_a_mangled_link_is_a_plain_page(browser: httpx.Client, token: str) -> None:
    page = browser.get(PAGE, params={"token": token})
    assert page.status_code == 400
    assert "This link does not work" in page.text
    assert 'name="token"' not in page.text


def test_a_new_address_waits_for_its_link_and_the_old_one_is_told(
    server: LiveServer, browser: httpx.Client, actions: Actions
) -> None:
    old = random_email()
    ada = actions.user(email=old)
    mailbox.verify(server, browser, old)
    csrf = signed_in(actions, browser, ada)
    new = random_email()
    asked = post(browser, "/settings/profile/email", csrf, email=new)
    assert asked.status_code == 303
    profile = browser.get(asked.headers["location"]).text
    assert "We sent a link to your new address" in profile
    assert f"Waiting for <strong>{new}</strong>" in profile
    assert re.search(
        rf"{re.escape(old)}</strong>\s*<span class=\"success\">\(verified\)", profile
    )
    state = me(server, ada)
    assert (state["email"], state["email_verified"], state["new_email"]) == (
        old,
        True,
        new,
    )
    # "Resend" mails a new link; the first one stops working.
    first = mailbox.link_token(mailbox.last(server, new, "verify_email"))
    resent = post(browser, "/settings/profile/email/verification", csrf)
    assert resent.status_code == 303
    assert resent.headers["location"] == "/settings/profile?done=email_resent"
    second = mailbox.link_token(mailbox.last(server, new, "verify_email"))
    with server.client() as mail_reader:
        _page, form = open_link(mail_reader, first)
        assert confirm(mail_reader, form, first).status_code == 400
        _page, form = open_link(mail_reader, second)
        assert confirm(mail_reader, form, second).status_code == 200
    state = me(server, ada)
    assert (state["email"], state["email_verified"], state["new_email"]) == (
        new,
        True,
        None,
    )
    told = mailbox.last(server, old, "email_changed")
    assert (told.values["old_email"], told.values["new_email"]) == (old, new)


def test_an_address_taken_meanwhile_is_refused_clearly(
    server: LiveServer, browser: httpx.Client, actions: Actions
) -> None:
    ada = actions.user(email=random_email())
    csrf = signed_in(actions, browser, ada)
    wanted = random_email()
    assert (
        post(browser, "/settings/profile/email", csrf, email=wanted).status_code == 303
    )
    token = mailbox.link_token(mailbox.last(server, wanted, "verify_email"))
    actions.user(email=wanted)  # someone else registers with it meanwhile
    with server.client() as mail_reader:
        _page, form = open_link(mail_reader, token)
        refused = confirm(mail_reader, form, token)
    assert refused.status_code == 409
    assert "now belongs to another account" in refused.text
    assert me(server, ada)["email"] != wanted


def test_resend_says_when_there_is_nothing_to_send(
    server: LiveServer, browser: httpx.Client, actions: Actions
) -> None:
    csrf = signed_in(actions, browser, actions.user())
    profile = browser.get("/settings/profile").text
    assert "Resend link" not in profile
    refused = post(browser, "/settings/profile/email/verification", csrf)
    assert refused.status_code == 400
    assert "no email address" in refused.text
    assert (
        post(browser, "/settings/profile/email/verification", None).status_code == 403
    )


def test_registering_on_the_page_mails_the_link(
    server: LiveServer, browser: httpx.Client
) -> None:
    email = random_email()
    token = form_token(browser, "/register")
    fields = {"username": "first", "password": PASSWORD, "email": email}
    assert post(browser, "/register", token, **fields).status_code == 303
    profile = browser.get("/settings/profile").text
    assert "(not verified)" in profile
    assert "Resend link" in profile
    message = mailbox.last(server, email, "verify_email")
    assert message.values["username"] == "first"
