"""How the person authenticated, said by every token (OIDC Core §2 ``auth_time``,
``amr``, ``acr``) and asked for by the client (OIDC Core §3.1.2.1 ``prompt=login``,
``max_age``, ``acr_values``; OpenID Connect Core Unmet Authentication
Requirements 1.0), driven by Authlib's client and a signed-in browser."""

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import jwt
import pytest

from authgate.util import clock
from tests.support.actions import PASSWORD, Actions, Login
from tests.support.live import LiveServer
from tests.support.oauth import Browser, LoopbackReceiver, hidden_fields, query


def claims(token: str) -> dict[str, Any]:
    """A JWT's claims (the server's signature is tested elsewhere)."""
    return dict(jwt.decode(token, options={"verify_signature": False}))


def signed_in_at(login: Login) -> int:
    return int(claims(login.access_token)["auth_time"])


def reauthenticate(browser: Browser, location: str, password: str = PASSWORD) -> str:
    """Confirm the password on ``/reauth`` (where ``location`` leads); where
    the page then sends the browser."""
    page = browser.open(location)
    assert page.status_code == 200, page.text
    assert "Confirm it" in page.text
    fields = dict(hidden_fields(page.text))
    answer = browser.http.post(
        "/reauth",
        data={**fields, "password": password},
        headers={"Origin": browser.server_url},
    )
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


def test_first_party_tokens_say_how_the_person_signed_in(user: Login) -> None:
    token = claims(user.access_token)
    assert token["amr"] == ["pwd"]
    assert token["acr"] == "aal1"
    assert abs(token["auth_time"] - clock.now().timestamp()) < 5


def test_code_grant_tokens_and_their_refreshes_keep_the_sign_in(
    public_client: dict[str, Any],
    code_flow: Callable[..., Any],
    meta: dict[str, Any],
    user: Login,
) -> None:
    client, token = code_flow(
        public_client["client_id"], scope="openid read", nonce="n-1"
    )
    id_token = claims(token["id_token"])
    access = claims(token["access_token"])
    for said in (id_token, access):
        assert said["auth_time"] == signed_in_at(user)
        assert said["amr"] == ["pwd"]
        assert said["acr"] == "aal1"
    clock.advance(60)
    refreshed = client.refresh_token(
        meta["token_endpoint"], refresh_token=token["refresh_token"]
    )
    # OIDC Core §12.2: a refreshed ID token keeps the original auth_time.
    assert claims(refreshed["id_token"])["auth_time"] == signed_in_at(user)
    assert claims(refreshed["access_token"])["amr"] == ["pwd"]


def test_client_credentials_tokens_have_no_person(
    actions: Actions, meta: dict[str, Any]
) -> None:
    made = actions.make_client(grant_types=["client_credentials"], scope="read")
    answer = httpx.post(
        meta["token_endpoint"],
        data={"grant_type": "client_credentials"},
        auth=(made["client_id"], made["client_secret"]),
    )
    assert answer.status_code == 200, answer.text
    said = claims(answer.json()["access_token"])
    assert not {"auth_time", "amr", "acr"} & said.keys()


def test_prompt_login_asks_for_the_password_then_carries_on(
    public_client: dict[str, Any],
    start: Callable[..., Any],
    receiver: LoopbackReceiver,
    browser: Browser,
    user: Login,
) -> None:
    client, url, state, verifier = start(
        public_client["client_id"],
        receiver.redirect_uri,
        scope="openid",
        prompt="login",
        max_age="0",
    )
    clock.advance(30)
    location = browser.open(url).headers["location"]
    assert urlsplit(location).path == "/reauth"
    back = query(location)["next"]
    # The way back no longer asks for a sign-in, so it cannot loop.
    params = dict(parse_qsl(urlsplit(back).query))
    assert "prompt" not in params
    assert "max_age" not in params
    assert params["state"] == state
    onward = reauthenticate(browser, location)
    assert onward == back
    receiver.follow(browser.authorize(onward))
    token = client.fetch_token(
        authorization_response=receiver.received[-1], code_verifier=verifier
    )
    id_token = claims(token["id_token"])
    assert id_token["auth_time"] >= signed_in_at(user) + 30
    assert id_token["amr"] == ["pwd"]


def test_a_wrong_password_on_reauth_goes_nowhere(
    public_client: dict[str, Any],
    start: Callable[..., Any],
    receiver: LoopbackReceiver,
    browser: Browser,
) -> None:
    _client, url, _state, _verifier = start(
        public_client["client_id"], receiver.redirect_uri, prompt="login"
    )
    location = browser.open(url).headers["location"]
    fields = dict(hidden_fields(browser.open(location).text))
    answer = browser.http.post(
        "/reauth",
        data={**fields, "password": "not the password"},
        headers={"Origin": browser.server_url},
    )
    assert answer.status_code == 401
    assert "That password is not right." in answer.text


def test_max_age_sends_an_old_sign_in_to_reauth(
    public_client: dict[str, Any],
    start: Callable[..., Any],
    receiver: LoopbackReceiver,
    browser: Browser,
) -> None:
    _client, url, _state, _verifier = start(
        public_client["client_id"], receiver.redirect_uri, max_age="300"
    )
    consent = browser.open(url)
    assert consent.status_code == 200  # signed in just now: the consent page
    clock.advance(301)
    location = browser.open(url).headers["location"]
    assert urlsplit(location).path == "/reauth"


@pytest.mark.parametrize("prompt", ["none login", "none"])
def test_prompt_none_when_a_sign_in_is_needed_is_login_required(
    public_client: dict[str, Any],
    start: Callable[..., Any],
    receiver: LoopbackReceiver,
    browser: Browser,
    prompt: str,
) -> None:
    _client, url, state, _verifier = start(
        public_client["client_id"],
        receiver.redirect_uri,
        prompt=prompt,
        max_age="60",
    )
    clock.advance(61)
    answer = query(browser.open(url).headers["location"])
    assert answer["error"] == "login_required"
    assert answer["state"] == state


def test_acr_values_aal2_without_a_second_factor_is_unmet(
    public_client: dict[str, Any],
    start: Callable[..., Any],
    receiver: LoopbackReceiver,
    browser: Browser,
) -> None:
    _client, url, state, _verifier = start(
        public_client["client_id"], receiver.redirect_uri, acr_values="aal2"
    )
    location = browser.open(url).headers["location"]
    assert location.startswith(receiver.redirect_uri)
    answer = query(location)
    assert answer["error"] == "unmet_authentication_requirements"
    assert "second factor" in answer["error_description"]
    assert answer["state"] == state


def test_acr_values_a_level_already_reached_goes_on(
    public_client: dict[str, Any],
    start: Callable[..., Any],
    receiver: LoopbackReceiver,
    browser: Browser,
) -> None:
    _client, url, _state, _verifier = start(
        public_client["client_id"], receiver.redirect_uri, acr_values="aal2 aal1"
    )
    assert browser.open(url).status_code == 200  # the consent page


def test_a_bad_max_age_is_refused_to_the_client(
    public_client: dict[str, Any],
    start: Callable[..., Any],
    receiver: LoopbackReceiver,
    browser: Browser,
) -> None:
    _client, url, _state, _verifier = start(
        public_client["client_id"], receiver.redirect_uri, max_age="-1"
    )
    answer = query(browser.open(url).headers["location"])
    assert answer["error"] == "invalid_request"


def test_signed_out_with_prompt_login_signs_in_once(
    server: LiveServer,
    public_client: dict[str, Any],
    start: Callable[..., Any],
    receiver: LoopbackReceiver,
) -> None:
    _client, url, _state, _verifier = start(
        public_client["client_id"], receiver.redirect_uri, prompt="login consent"
    )
    with Browser(server.url) as nobody:
        location = nobody.open(url).headers["location"]
    assert urlsplit(location).path == "/login"
    back = dict(parse_qsl(urlsplit(query(location)["next"]).query))
    assert back["prompt"] == "consent"


def test_discovery_lists_what_the_sign_in_may_be_asked(
    server: LiveServer, meta: dict[str, Any]
) -> None:
    oidc = httpx.get(f"{server.url}/.well-known/openid-configuration").json()
    for document in (meta, oidc):
        assert document["acr_values_supported"] == ["aal1", "aal2"]
        assert {"auth_time", "amr", "acr"} <= set(document["claims_supported"])
        assert document["prompt_values_supported"] == ["none", "login", "consent"]
        assert document["end_session_endpoint"] == f"{server.url}/oauth/end_session"


def test_the_cli_login_needs_a_sign_in_recent_enough_for_what_it_may_do(
    start: Callable[..., Any],
    receiver: LoopbackReceiver,
    browser: Browser,
    meta: dict[str, Any],
    user: Login,
) -> None:
    """The CLI's tokens carry the person's full rights, sensitive actions
    included: approving it with an old sign-in would give tokens too old to
    use them, however often the person logged in with it again."""
    client, url, _state, verifier = start(
        "authgate-cli", receiver.redirect_uri, scope="openid read write"
    )
    clock.advance(10 * 60 + 1)
    location = browser.open(url).headers["location"]
    assert urlsplit(location).path == "/reauth"
    receiver.follow(browser.authorize(reauthenticate(browser, location)))
    token = client.fetch_token(
        authorization_response=receiver.received[-1], code_verifier=verifier
    )
    fresh = claims(token["access_token"])["auth_time"]
    assert fresh >= signed_in_at(user) + 10 * 60
    made = httpx.post(
        f"{meta['issuer']}/api/v1/access-tokens",
        headers={"Authorization": f"Bearer {token['access_token']}"},
        json={"name": "from the cli", "expires_in_days": 1},
    )
    assert made.status_code == 201, made.text


def test_the_cli_device_login_too(
    meta: dict[str, Any], browser: Browser, server: LiveServer
) -> None:
    clock.advance(10 * 60 + 1)
    started = httpx.post(
        meta["device_authorization_endpoint"],
        data={"client_id": "authgate-cli", "scope": "read write"},
    ).json()
    page = browser.open(f"/device?user_code={started['user_code']}")
    assert page.status_code == 303
    location = page.headers["location"]
    assert urlsplit(location).path == "/reauth"
    onward = reauthenticate(browser, location)
    assert browser.open(onward).status_code == 200  # the device's consent page
