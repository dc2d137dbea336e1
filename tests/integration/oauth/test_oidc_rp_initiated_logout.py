"""The end-session endpoint (OpenID Connect RP-Initiated Logout 1.0): the
person confirms, the session ends, and the browser goes back only to a URI
the client registered, with its ``state``."""

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from authgate.util import clock
from tests.support.actions import Actions
from tests.support.live import LiveServer
from tests.support.oauth import Browser, LoopbackReceiver, hidden_fields, query

AFTER = "https://app.example.com/signed-out"


@pytest.fixture
def app_client(actions: Actions, receiver: LoopbackReceiver) -> dict[str, Any]:
    return actions.make_client(
        public=True,
        redirect_uris=[receiver.registered],
        post_logout_redirect_uris=[AFTER],
    )


@pytest.fixture
def id_token(app_client: dict[str, Any], code_flow: Callable[..., Any]) -> str:
    _client, token = code_flow(app_client["client_id"], scope="openid")
    return str(token["id_token"])


def _confirm(browser: Browser, page: httpx.Response) -> httpx.Response:
    assert page.status_code == 200, page.text
    assert "Sign out?" in page.text
    return browser.http.post(
        "/oauth/end_session",
        data={**dict(hidden_fields(page.text)), "confirm": "yes"},
        headers={"Origin": browser.server_url},
    )


def _signed_in(browser: Browser) -> bool:
    return browser.http.get("/api/v1/me").status_code == 200


def test_logout_with_a_registered_redirect_and_state(
    browser: Browser, id_token: str
) -> None:
    page = browser.open(
        "/oauth/end_session?"
        + str(
            httpx.QueryParams(
                id_token_hint=id_token, post_logout_redirect_uri=AFTER, state="s-1"
            )
        )
    )
    assert AFTER in page.text
    assert _signed_in(browser)  # asking is not signing out
    answer = _confirm(browser, page)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{AFTER}?state=s-1"
    assert not _signed_in(browser)


def test_a_form_post_from_the_client_works_too(
    browser: Browser, app_client: dict[str, Any]
) -> None:
    page = browser.http.post(
        "/oauth/end_session",
        data={"client_id": app_client["client_id"], "post_logout_redirect_uri": AFTER},
    )
    answer = _confirm(browser, page)
    assert answer.headers["location"] == AFTER


def test_without_a_redirect_the_signed_out_page(browser: Browser) -> None:
    answer = _confirm(browser, browser.open("/oauth/end_session"))
    assert answer.status_code == 200
    assert "Signed out" in answer.text
    assert not _signed_in(browser)


@pytest.mark.parametrize(
    "uri", ["https://evil.example/", f"{AFTER}/x", AFTER.upper(), f"{AFTER}?a=1"]
)
def test_an_unregistered_redirect_is_refused_not_followed(
    browser: Browser, app_client: dict[str, Any], uri: str
) -> None:
    page = browser.open(
        "/oauth/end_session?"
        + str(
            httpx.QueryParams(
                client_id=app_client["client_id"], post_logout_redirect_uri=uri
            )
        )
    )
    assert page.status_code == 400
    assert "not registered" in page.text
    assert _signed_in(browser)


def test_a_redirect_needs_a_named_client(browser: Browser) -> None:
    page = browser.open(
        "/oauth/end_session?" + str(httpx.QueryParams(post_logout_redirect_uri=AFTER))
    )
    assert page.status_code == 400


def test_an_expired_hint_still_names_the_client(
    browser: Browser, id_token: str
) -> None:
    clock.advance(24 * 3600)
    page = browser.open(
        "/oauth/end_session?"
        + str(httpx.QueryParams(id_token_hint=id_token, post_logout_redirect_uri=AFTER))
    )
    assert _confirm(browser, page).headers["location"] == AFTER


def test_a_forged_hint_is_refused(browser: Browser, id_token: str) -> None:
    head, body, signature = id_token.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    for forged in (f"{head}.{body}.{flipped}", f"{head}.{body}.", "not-a-jwt"):
        page = browser.open(
            "/oauth/end_session?"
            + str(
                httpx.QueryParams(id_token_hint=forged, post_logout_redirect_uri=AFTER)
            )
        )
        assert page.status_code == 400
        assert "not an ID token this server issued" in page.text
    assert _signed_in(browser)


def test_the_hint_and_client_id_must_agree(
    browser: Browser, id_token: str, actions: Actions
) -> None:
    other = actions.make_client(public=True, post_logout_redirect_uris=[AFTER])
    page = browser.open(
        "/oauth/end_session?"
        + str(
            httpx.QueryParams(
                id_token_hint=id_token,
                client_id=other["client_id"],
                post_logout_redirect_uri=AFTER,
            )
        )
    )
    assert page.status_code == 400


def test_the_confirmation_needs_the_form_token(browser: Browser) -> None:
    refused = browser.http.post(
        "/oauth/end_session",
        data={"confirm": "yes", "csrf_token": "forged"},
        headers={"Origin": browser.server_url},
    )
    assert refused.status_code == 403
    assert _signed_in(browser)


def test_signed_out_goes_straight_back(
    server: LiveServer, app_client: dict[str, Any]
) -> None:
    with Browser(server.url) as nobody:
        answer = nobody.open(
            "/oauth/end_session?"
            + str(
                httpx.QueryParams(
                    client_id=app_client["client_id"],
                    post_logout_redirect_uri=AFTER,
                    state="s-2",
                )
            )
        )
    assert answer.status_code == 303
    assert query(answer.headers["location"]) == {"state": "s-2"}


def test_dynamic_registration_takes_post_logout_redirect_uris(
    server: LiveServer,
) -> None:
    registered = httpx.post(
        f"{server.url}/oauth/register",
        json={
            "redirect_uris": ["http://127.0.0.1/cb"],
            "post_logout_redirect_uris": ["http://127.0.0.1/bye"],
            "token_endpoint_auth_method": "none",
        },
    )
    assert registered.status_code == 201, registered.text
    assert registered.json()["post_logout_redirect_uris"] == ["http://127.0.0.1/bye"]
    refused = httpx.post(
        f"{server.url}/oauth/register",
        json={
            "redirect_uris": ["http://127.0.0.1/cb"],
            "post_logout_redirect_uris": ["https://evil.example/bye"],
            "token_endpoint_auth_method": "none",
        },
    )
    assert refused.status_code == 400
