"""``/forgot``'s "Email me a link" and ``/reset`` over plain HTTP: one page
for every address, opening a link changes nothing (mail scanners fetch
links), its form sets the password once, and each refusal is a plain page."""

import html
from collections.abc import Iterator

import httpx
import pytest

from tests.support import mailbox
from tests.support.actions import PASSWORD, Actions, random_email
from tests.support.live import LiveServer
from tests.support.pages import CSRF, form_token, post

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "a brand new passphrase 42"


@pytest.fixture
def browser(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as http:
        yield http


def verified(server: LiveServer, actions: Actions) -> tuple[str, str]:
    """A new account's username and its verified address."""
    email = random_email()
    login = actions.user(email=email)
    mailbox.verify(server, actions.client, email)
    return login.username, email


def ask(http: httpx.Client, email: str) -> httpx.Response:
    return post(http, "/forgot/email", form_token(http, "/forgot"), email=email)


def open_link(http: httpx.Client, token: str) -> str:
    """The form token of the page a link opens."""
    page = http.get("/reset", params={"token": token})
    assert page.status_code == 200, page.text
    assert "Choose a new password" in page.text
    match = CSRF.search(page.text)
    assert match, page.text
    return match[1]


def submit(
    http: httpx.Client, csrf: str | None, token: str, password: str
) -> httpx.Response:
    """The page's form, posted same-origin (no form token when ``csrf`` is
    ``None``)."""
    fields = {"token": token, "new_password": password}
    if csrf is not None:
        fields["csrf_token"] = csrf
    return http.post(
        "/reset", data=fields, headers={"Origin": str(http.base_url).rstrip("/")}
    )


def can_login(http: httpx.Client, username: str, password: str) -> bool:
    response = http.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    )
    return response.status_code == 200


def test_every_address_gets_the_same_page(
    server: LiveServer, browser: httpx.Client, actions: Actions
) -> None:
    _, known = verified(server, actions)
    unknown = random_email()
    pages = [ask(browser, address) for address in (known, unknown)]
    for page, address in zip(pages, (known, unknown), strict=True):
        assert page.status_code == 200, page.text
        assert "Check your mail" in page.text
        assert page.text.replace(html.escape(address), "") == pages[0].text.replace(
            html.escape(known), ""
        )
    assert mailbox.last(server, known, "reset_password").to == known
    assert mailbox.last(server, unknown, "reset_unknown").to == unknown
    forged = post(browser, "/forgot/email", None, email=unknown)
    assert forged.status_code == 403
    assert len(mailbox.messages(server, unknown)) == 1
    refused = ask(browser, "not an address")
    assert refused.status_code == 400
    assert "Email address is not valid." in refused.text


def test_opening_the_link_changes_nothing_and_its_form_resets_once(
    server: LiveServer, browser: httpx.Client, actions: Actions
) -> None:
    username, email = verified(server, actions)
    ask(browser, email)
    token = mailbox.link_token(mailbox.last(server, email, "reset_password"))
    for _ in range(2):  # a scanner's fetch, then the person's
        csrf = open_link(browser, token)
    assert can_login(actions.client, username, PASSWORD)

    forged = submit(browser, None, token, NEW_PASSWORD)
    assert forged.status_code == 403
    weak = submit(browser, csrf, token, "short")
    assert weak.status_code == 400
    assert "at least" in weak.text
    assert 'name="token"' in weak.text  # the link still works: try again

    done = submit(browser, csrf, token, NEW_PASSWORD)
    assert done.status_code == 200, done.text
    assert "Password changed" in done.text
    assert can_login(actions.client, username, NEW_PASSWORD)

    again = submit(browser, open_link(browser, token), token, "x" * 20)
    assert again.status_code == 400
    assert "This link does not work" in again.text
    assert "does not work any more" in again.text


def test_a_made_up_link_gets_a_plain_page(browser: httpx.Client) -> None:
    for token in ("", "ag_evt_nonsense", "x" * 5000):
        page = browser.get("/reset", params={"token": token})
        assert page.status_code == 400
        assert "This link does not work" in page.text
        assert 'name="new_password"' not in page.text
