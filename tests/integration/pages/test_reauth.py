"""``/reauth`` and the step-up of sensitive forms (RFC 9470): a stale session's
change goes to confirm the password, then back to the page it came from."""

from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from authgate.util import clock
from tests.support.actions import PASSWORD, Actions
from tests.support.live import LiveServer
from tests.support.oauth import hidden_fields
from tests.support.pages import post, signed_in

pytestmark = pytest.mark.e2e

STALE = 10 * 60 + 1


@pytest.fixture
def browser(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as http:
        yield http


def _query(location: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(location).query))


def _new_token(browser: httpx.Client, token: str) -> httpx.Response:
    origin = str(browser.base_url).rstrip("/")
    return browser.post(
        "/settings/tokens",
        data={
            "csrf_token": token,
            "name": "deploys",
            "expires_in_days": "3",
            "scopes": "read",
        },
        headers={"Origin": origin, "Referer": f"{origin}/settings/tokens"},
    )


def _confirm(browser: httpx.Client, location: str, password: str) -> httpx.Response:
    page = browser.get(location)
    assert page.status_code == 200, page.text
    assert "Confirm it" in page.text
    fields = dict(hidden_fields(page.text))
    return post(
        browser, "/reauth", fields.pop("csrf_token"), **fields, password=password
    )


def test_a_stale_session_confirms_its_password_then_carries_on(
    browser: httpx.Client, actions: Actions
) -> None:
    token = signed_in(actions, browser)
    clock.advance(STALE)
    sent = _new_token(browser, token)
    assert sent.status_code == 303
    location = sent.headers["location"]
    assert urlsplit(location).path == "/reauth"
    assert _query(location) == {"next": "/settings/tokens"}
    assert browser.get("/api/v1/access-tokens").json()["items"] == []  # nothing made
    confirmed = _confirm(browser, location, PASSWORD)
    assert confirmed.status_code == 303
    assert confirmed.headers["location"] == "/settings/tokens"
    made = _new_token(browser, token)
    assert made.status_code == 200
    assert "it will not be shown again" in made.text


def test_a_wrong_password_is_refused_and_counted(
    browser: httpx.Client, actions: Actions
) -> None:
    token = signed_in(actions, browser)
    clock.advance(STALE)
    location = _new_token(browser, token).headers["location"]
    refused = _confirm(browser, location, "not the password")
    assert refused.status_code == 401
    assert "That password is not right." in refused.text
    assert _new_token(browser, token).status_code == 303  # still stale
    failures = actions.client.get(
        "/api/v1/admin/audit",
        headers=actions.admin().bearer,
        params={"action": "login.failed"},
    ).json()["items"]
    assert failures


def test_signed_out_it_is_the_sign_in_page(browser: httpx.Client) -> None:
    answer = browser.get("/reauth", params={"next": "/settings/tokens"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fsettings%2Ftokens"


@pytest.mark.parametrize(
    "next_", ["https://evil.example/", "//evil.example/x", "/\\evil.example"]
)
def test_next_never_leaves_the_site(
    browser: httpx.Client, actions: Actions, next_: str
) -> None:
    signed_in(actions, browser)
    page = browser.get("/reauth", params={"next": next_})
    fields = dict(hidden_fields(page.text))
    assert fields["next"] == "/settings"
    answer = post(
        browser, "/reauth", fields["csrf_token"], next=next_, password=PASSWORD
    )
    assert answer.headers["location"] == "/settings"


def test_the_form_needs_its_token(browser: httpx.Client, actions: Actions) -> None:
    signed_in(actions, browser)
    answer = post(browser, "/reauth", "forged", next="/settings", password=PASSWORD)
    assert answer.status_code == 403


def test_admin_console_changes_step_up_too(
    browser: httpx.Client, actions: Actions
) -> None:
    token = signed_in(actions, browser, actions.admin())
    clock.advance(STALE)
    sent = post(browser, "/admin/invites", token)
    assert sent.status_code == 303
    assert urlsplit(sent.headers["location"]).path == "/reauth"
