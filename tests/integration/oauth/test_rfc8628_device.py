"""The device authorization grant (RFC 8628), driven by Authlib's app and
approved by a signed-in user on the ``/device`` page.

The app polls as §3.4-3.5 say: it waits ``interval`` seconds between polls,
keeps polling on ``authorization_pending``, adds five seconds on
``slow_down``, and stops on anything else. The waiting moves the clock the
test and the server share instead of sleeping.
"""

import re
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import OAuth2Client

from authgate.util import clock
from tests.support.actions import Actions, Login
from tests.support.asserts import error
from tests.support.live import LiveServer
from tests.support.oauth import DEVICE_GRANT, Browser

USER_CODE = re.compile(r"^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$")


@pytest.fixture
def device_client(actions: Actions) -> dict[str, Any]:
    return actions.make_client(
        public=True, grant_types=["device_code", "refresh_token"]
    )


@pytest.fixture
def app(
    authlib: Callable[..., OAuth2Client], device_client: dict[str, Any]
) -> OAuth2Client:
    """The device's app: Authlib's, public."""
    return authlib(device_client["client_id"])


def authorize_device(meta: dict[str, Any], app: OAuth2Client, **data: str) -> Any:
    response = app.request(
        "POST",
        meta["device_authorization_endpoint"],
        data={"client_id": app.client_id, **data},
        withhold_token=True,
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return response.json()


def poll_once(app: OAuth2Client, device_code: str) -> Any:
    return app.fetch_token(grant_type=DEVICE_GRANT, device_code=device_code)


def poll(
    app: OAuth2Client,
    started: dict[str, Any],
    *,
    wait_first: bool = True,
    limit: int = 10,
) -> tuple[Any, list[int]]:
    """RFC 8628 §3.4-3.5: poll until something other than pending or slow_down;
    the error or the token, and the intervals waited."""
    interval = started["interval"]
    waited: list[int] = []
    for _ in range(limit):
        if wait_first or waited:
            clock.advance(interval)
            waited.append(interval)
        try:
            return poll_once(app, started["device_code"]), waited
        except OAuthError as exc:
            if exc.error == "authorization_pending":
                wait_first = True
                continue
            if exc.error == "slow_down":
                interval += 5
                continue
            return exc, waited
    raise AssertionError("still pending")


def test_device_flow(
    server: LiveServer,
    meta: dict[str, Any],
    app: OAuth2Client,
    browser: Browser,
    user: Login,
) -> None:
    started = authorize_device(meta, app, scope="read write")
    assert USER_CODE.match(started["user_code"])
    assert started["verification_uri"] == f"{server.url}/device"
    assert started["verification_uri_complete"] == (
        f"{server.url}/device?user_code={started['user_code']}"
    )
    assert started["expires_in"] == 600
    assert started["interval"] == 5

    with pytest.raises(OAuthError) as pending:
        poll_once(app, started["device_code"])
    assert pending.value.error == "authorization_pending"

    # The user types the code as it comes: lower case, no dash.
    typed = started["user_code"].replace("-", "").lower()
    page = browser.device_page(typed)
    assert page.status_code == 200
    assert "Approve" in page.text
    assert "Deny" in page.text
    assert "Read your data" in page.text
    done = browser.decide_device(typed, "approve")
    assert done.status_code == 200, done.text
    assert "Device connected" in done.text

    token, _waited = poll(app, started)
    assert token["scope"] == "read write"
    assert token["refresh_token"]
    # The tokens say how the approving person had signed in (OIDC Core §2).
    said = jwt.decode(token["access_token"], options={"verify_signature": False})
    signed_in = jwt.decode(user.access_token, options={"verify_signature": False})
    assert said["auth_time"] == signed_in["auth_time"]
    assert (said["amr"], said["acr"]) == (["pwd"], "aal1")
    me = httpx.get(
        f"{server.url}/api/v1/me",
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert me.json()["username"] == user.username
    refreshed = app.refresh_token(
        meta["token_endpoint"], refresh_token=token["refresh_token"]
    )
    assert refreshed["access_token"]

    # A device code yields tokens once.
    clock.advance(started["interval"])
    with pytest.raises(OAuthError) as again:
        poll_once(app, started["device_code"])
    assert again.value.error == "invalid_grant"


def test_polling_too_fast_slows_the_client_down(
    meta: dict[str, Any], app: OAuth2Client
) -> None:
    started = authorize_device(meta, app)
    device_code = started["device_code"]
    with pytest.raises(OAuthError) as first:
        poll_once(app, device_code)
    assert first.value.error == "authorization_pending"
    with pytest.raises(OAuthError) as fast:
        poll_once(app, device_code)
    assert fast.value.error == "slow_down"
    # The interval is now 10 s, for good: 5 s later is still too fast.
    clock.advance(5)
    with pytest.raises(OAuthError) as still:
        poll_once(app, device_code)
    assert still.value.error == "slow_down"
    # And 15 s now: waiting that long is fine.
    clock.advance(15)
    with pytest.raises(OAuthError) as patient:
        poll_once(app, device_code)
    assert patient.value.error == "authorization_pending"


def test_denied(meta: dict[str, Any], app: OAuth2Client, browser: Browser) -> None:
    started = authorize_device(meta, app)
    done = browser.decide_device(started["user_code"], "deny")
    assert "denied" in done.text
    outcome, _waited = poll(app, started)
    assert isinstance(outcome, OAuthError)
    assert outcome.error == "access_denied"
    # A decided code cannot be decided again.
    page = browser.device_page(started["user_code"])
    assert page.status_code == 400


def test_expired(meta: dict[str, Any], app: OAuth2Client, browser: Browser) -> None:
    started = authorize_device(meta, app)
    clock.advance(started["expires_in"] + 1)
    with pytest.raises(OAuthError) as expired:
        poll_once(app, started["device_code"])
    assert expired.value.error == "expired_token"
    assert browser.device_page(started["user_code"]).status_code == 400


def test_device_code_of_another_client(
    actions: Actions, meta: dict[str, Any], app: OAuth2Client
) -> None:
    started = authorize_device(meta, app)
    other = actions.make_client(public=True, grant_types=["device_code"])
    response = httpx.post(
        meta["token_endpoint"],
        data={
            "grant_type": DEVICE_GRANT,
            "client_id": other["client_id"],
            "device_code": started["device_code"],
        },
    )
    error(response, 400, "invalid_grant")


def test_client_without_the_device_grant(
    meta: dict[str, Any], public_client: dict[str, Any]
) -> None:
    response = httpx.post(
        meta["device_authorization_endpoint"],
        data={"client_id": public_client["client_id"]},
    )
    error(response, 400, "unauthorized_client")


def test_the_page_needs_a_signed_in_user(
    server: LiveServer, meta: dict[str, Any], app: OAuth2Client
) -> None:
    started = authorize_device(meta, app)
    with Browser(server.url) as anonymous:
        response = anonymous.device_page(started["user_code"])
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=%2Fdevice%3Fuser_code")


def test_the_decision_needs_the_csrf_token(
    server: LiveServer, meta: dict[str, Any], app: OAuth2Client, browser: Browser
) -> None:
    started = authorize_device(meta, app)
    forged = browser.http.post(
        "/device",
        data={"user_code": started["user_code"], "decision": "approve"},
        headers={"Origin": server.url},
    )
    assert forged.status_code == 403
    with pytest.raises(OAuthError) as pending:
        poll_once(app, started["device_code"])
    assert pending.value.error == "authorization_pending"


def test_wrong_user_codes_are_rate_limited(
    start_server: Callable[..., LiveServer],
) -> None:
    limited = start_server(user_code_rate_limit_per_minute=3)
    with (
        limited.client() as http,
        Browser(limited.url, Actions(http).user()) as person,
    ):
        answers = [person.device_page("BCDF-GHJK") for _ in range(4)]
    assert [a.status_code for a in answers] == [400, 400, 400, 429]
    assert 1 <= int(answers[-1].headers["retry-after"]) <= 60
