"""The authorization code grant with PKCE (RFC 6749 §4.1, OAuth 2.1 §4.1,
RFC 9207), driven by Authlib's client and a signed-in browser, with the
redirect received by a real loopback listener (RFC 8252 §7.3)."""

from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import OAuth2Client

from authgate.util import clock
from tests.support.actions import Actions, Login
from tests.support.asserts import error
from tests.support.live import LiveServer
from tests.support.oauth import Browser, LoopbackReceiver, audit_events, query


def test_code_flow_with_pkce_and_loopback_redirect(
    server: LiveServer,
    meta: dict[str, Any],
    public_client: dict[str, Any],
    receiver: LoopbackReceiver,
    browser: Browser,
    user: Login,
    start: Callable[..., Any],
) -> None:
    client, url, state, verifier = start(
        public_client["client_id"],
        receiver.redirect_uri,
        scope="openid profile read write",
        nonce="n-0S6_WzA2Mj",
    )
    consent = browser.consent(url)
    assert public_client["name"] in consent.text
    assert "read" in consent.text
    assert server.url in consent.text
    # The page may post back to the loopback redirect's origin (Chromium checks
    # form-action on the redirect that answers the form).
    csp = consent.response.headers["content-security-policy"]
    assert f"form-action 'self' http://127.0.0.1:{receiver.port}" in csp
    location = browser.decide(consent, "approve").headers["location"]
    answer = receiver.follow(location)
    assert answer["state"] == state
    assert answer["iss"] == server.url  # RFC 9207

    token = client.fetch_token(
        meta["token_endpoint"],
        authorization_response=receiver.received[-1],
        code_verifier=verifier,
    )
    assert token["token_type"] == "Bearer"
    assert token["scope"] == "openid profile read write"
    assert token["refresh_token"]
    me = httpx.get(
        f"{server.url}/api/v1/me",
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert me.status_code == 200, me.text
    assert me.json()["username"] == user.username

    claims = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert claims["aud"] == server.url
    assert claims["client_id"] == public_client["client_id"]
    assert jwt.get_unverified_header(token["access_token"])["typ"] == "at+jwt"

    keys = jwt.PyJWKClient(meta["jwks_uri"])
    id_token = token["id_token"]
    header = jwt.get_unverified_header(id_token)
    assert header["alg"] == "RS256"
    id_claims = jwt.decode(
        id_token,
        keys.get_signing_key(header["kid"]).key,
        algorithms=["RS256"],
        audience=public_client["client_id"],
        issuer=server.url,
    )
    assert id_claims["nonce"] == "n-0S6_WzA2Mj"
    assert id_claims["sub"] == me.json()["id"]
    assert id_claims["preferred_username"] == user.username

    info = httpx.get(
        meta["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert info.status_code == 200, info.text
    assert info.json() == {
        "sub": me.json()["id"],
        "preferred_username": user.username,
        "name": user.username,
    }


def test_remembered_consent_skips_the_page(
    meta: dict[str, Any],
    public_client: dict[str, Any],
    receiver: LoopbackReceiver,
    browser: Browser,
    start: Callable[..., Any],
) -> None:
    _client, url, _state, _verifier = start(
        public_client["client_id"], receiver.redirect_uri, scope="read"
    )
    browser.authorize(url)
    # Same client, same (or fewer) scopes: straight back with a code.
    _client, url, state, _verifier = start(
        public_client["client_id"], receiver.redirect_uri, scope="read"
    )
    response = browser.open(url)
    assert response.status_code == 303
    assert query(response.headers["location"])["state"] == state
    assert "code" in query(response.headers["location"])
    # More scopes than were approved: the page again.
    _client, url, _state, _verifier = start(
        public_client["client_id"], receiver.redirect_uri, scope="read write"
    )
    assert browser.open(url).status_code == 200


def test_deny_sends_access_denied_with_state_and_iss(
    server: LiveServer,
    meta: dict[str, Any],
    public_client: dict[str, Any],
    receiver: LoopbackReceiver,
    browser: Browser,
    start: Callable[..., Any],
) -> None:
    _client, url, state, _verifier = start(
        public_client["client_id"], receiver.redirect_uri
    )
    answer = query(browser.authorize(url, decision="deny"))
    assert answer["error"] == "access_denied"
    assert answer["state"] == state
    assert answer["iss"] == server.url
    assert "code" not in answer


def test_signed_out_visitor_is_sent_to_login_and_back(
    server: LiveServer,
    meta: dict[str, Any],
    public_client: dict[str, Any],
    receiver: LoopbackReceiver,
    start: Callable[..., Any],
) -> None:
    _client, url, _state, _verifier = start(
        public_client["client_id"], receiver.redirect_uri
    )
    with Browser(server.url) as anonymous:
        response = anonymous.open(url)
        assert response.status_code == 303
        location = response.headers["location"]
        assert location.startswith("/login?next=")
        assert query(location)["next"] == url.removeprefix(server.url)


def test_approving_needs_the_csrf_token_and_our_origin(
    meta: dict[str, Any],
    public_client: dict[str, Any],
    receiver: LoopbackReceiver,
    browser: Browser,
    start: Callable[..., Any],
) -> None:
    _client, url, _state, _verifier = start(
        public_client["client_id"], receiver.redirect_uri
    )
    consent = browser.consent(url)
    assert browser.decide(consent, "approve", drop=("csrf_token",)).status_code == 403
    other_site = browser.decide(consent, "approve", origin="https://evil.example")
    assert other_site.status_code == 403
    assert browser.decide(consent, "approve").status_code == 303


# -- Redirect URIs: exact match, loopback port excepted ----------------------------


@pytest.mark.parametrize(
    "presented",
    [
        "https://app.example.com/callback/extra",  # extra path
        "https://app.example.com:8443/callback",  # other port, not loopback
        "https://app.example.com/callback?x=1",  # added query
        "https://app.example.com/callback#frag",  # fragment
        "https://app.example.com/Callback",  # case matters
        "https://evil.example.com/callback",
    ],
)
def test_redirect_uri_must_match_exactly(
    actions: Actions,
    meta: dict[str, Any],
    browser: Browser,
    presented: str,
    start: Callable[..., Any],
) -> None:
    registered = actions.make_client(
        public=True, redirect_uris=["https://app.example.com/callback"]
    )
    _client, url, _state, _verifier = start(registered["client_id"], presented)
    response = browser.open(url)
    # Never redirected anywhere: an error page for the person.
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "redirect_uri" in response.text


def test_loopback_redirect_matches_on_any_port_but_nothing_else(
    actions: Actions, meta: dict[str, Any], browser: Browser, start: Callable[..., Any]
) -> None:
    registered = actions.make_client(
        public=True, redirect_uris=["http://127.0.0.1/callback"]
    )
    client_id = registered["client_id"]
    _c, url, _s, _v = start(client_id, "http://127.0.0.1:61234/callback")
    assert browser.open(url).status_code == 200
    for wrong in (
        "http://127.0.0.1:61234/callback/x",
        "http://127.0.0.1:61234/callback?x=1",
        "http://localhost:61234/callback",
    ):
        _c, url, _s, _v = start(client_id, wrong)
        assert browser.open(url).status_code == 400


def test_unknown_client_gets_an_error_page(
    meta: dict[str, Any], browser: Browser, start: Callable[..., Any]
) -> None:
    _c, url, _s, _v = start("cl_doesnotexist", "http://127.0.0.1:5/cb")
    response = browser.open(url)
    assert response.status_code == 400
    assert "location" not in response.headers


def test_errors_after_the_redirect_check_go_to_the_client(
    server: LiveServer,
    meta: dict[str, Any],
    public_client: dict[str, Any],
    receiver: LoopbackReceiver,
    browser: Browser,
    start: Callable[..., Any],
) -> None:
    client_id = public_client["client_id"]
    _c, url, state, _v = start(client_id, receiver.redirect_uri, scope="read sudo")
    answer = query(browser.open(url).headers["location"])
    assert answer == {
        "error": "invalid_scope",
        "error_description": answer["error_description"],
        "state": state,
        "iss": server.url,
    }
    _c, url, _s, _v = start(client_id, receiver.redirect_uri)
    bad_type = url.replace("response_type=code", "response_type=token")
    answer = query(browser.open(bad_type).headers["location"])
    assert answer["error"] == "unsupported_response_type"


# -- The token request --------------------------------------------------------------


def redeem(
    meta: dict[str, Any],
    client_id: str,
    code: str,
    verifier: str,
    redirect_uri: str,
    **extra: str,
) -> httpx.Response:
    return httpx.post(
        meta["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "client_id": client_id,
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": redirect_uri,
            **extra,
        },
    )


def test_code_replay_is_refused_and_revokes_what_the_code_issued(
    server: LiveServer,
    meta: dict[str, Any],
    public_client: dict[str, Any],
    receiver: LoopbackReceiver,
    browser: Browser,
    database_url: str,
    approved_code: Callable[..., Any],
) -> None:
    client_id = public_client["client_id"]
    _c, code, verifier = approved_code(client_id)
    first = redeem(meta, client_id, code, verifier, receiver.redirect_uri)
    assert first.status_code == 200, first.text
    assert first.headers["cache-control"] == "no-store"
    tokens = first.json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert httpx.get(f"{server.url}/api/v1/me", headers=bearer).status_code == 200

    again = redeem(meta, client_id, code, verifier, receiver.redirect_uri)
    error(again, 400, "invalid_grant")

    # The access token (cached as valid a moment ago) and the refresh token die.
    assert httpx.get(f"{server.url}/api/v1/me", headers=bearer).status_code == 401
    refreshed = httpx.post(
        meta["token_endpoint"],
        data={
            "grant_type": "refresh_token",
            "client_id": client_id,
            "refresh_token": tokens["refresh_token"],
        },
    )
    error(refreshed, 400, "invalid_grant")
    actions = [e["action"] for e in audit_events(database_url)]
    assert "oauth.code_replayed" in actions
    assert "oauth.code_issued" in actions
    assert "oauth.code_redeemed" in actions
    assert "oauth.consent_granted" in actions


def test_code_of_another_client_is_refused(
    actions: Actions,
    meta: dict[str, Any],
    public_client: dict[str, Any],
    receiver: LoopbackReceiver,
    browser: Browser,
    approved_code: Callable[..., Any],
) -> None:
    other = actions.make_client(public=True, redirect_uris=[receiver.registered])
    _c, code, verifier = approved_code(public_client["client_id"])
    stolen = redeem(meta, other["client_id"], code, verifier, receiver.redirect_uri)
    error(stolen, 400, "invalid_grant")
    # The rightful client can still redeem it.
    mine = redeem(
        meta, public_client["client_id"], code, verifier, receiver.redirect_uri
    )
    assert mine.status_code == 200, mine.text


def test_redirect_uri_must_repeat_the_authorization_requests(
    meta: dict[str, Any],
    public_client: dict[str, Any],
    receiver: LoopbackReceiver,
    browser: Browser,
    approved_code: Callable[..., Any],
) -> None:
    client_id = public_client["client_id"]
    _c, code, verifier = approved_code(client_id)
    other_port = receiver.redirect_uri.replace(str(receiver.port), "1")
    error(redeem(meta, client_id, code, verifier, other_port), 400, "invalid_grant")


def test_expired_code_is_refused(
    meta: dict[str, Any],
    public_client: dict[str, Any],
    receiver: LoopbackReceiver,
    browser: Browser,
    approved_code: Callable[..., Any],
) -> None:
    client_id = public_client["client_id"]
    _c, code, verifier = approved_code(client_id)
    clock.advance(61)
    error(
        redeem(meta, client_id, code, verifier, receiver.redirect_uri),
        400,
        "invalid_grant",
    )


def test_confidential_client_authenticates_with_basic_or_post(
    actions: Actions,
    meta: dict[str, Any],
    receiver: LoopbackReceiver,
    browser: Browser,
    server: LiveServer,
    authlib: Callable[..., OAuth2Client],
) -> None:
    registered = actions.make_client(redirect_uris=[receiver.registered])
    assert registered["client_secret"]
    for method in ("client_secret_basic", "client_secret_post"):
        client = authlib(
            registered["client_id"],
            registered["client_secret"],
            token_endpoint_auth_method=method,
            redirect_uri=receiver.redirect_uri,
        )
        verifier = generate_token(48)
        url, _state = client.create_authorization_url(
            meta["authorization_endpoint"], code_verifier=verifier
        )
        callback = browser.authorize(url)
        token = client.fetch_token(
            authorization_response=callback, code_verifier=verifier
        )
        assert token["access_token"]
    # A wrong secret is invalid_client, 401, with a Basic challenge.
    client = authlib(
        registered["client_id"], "ag_cs_wrong", redirect_uri=receiver.redirect_uri
    )
    with pytest.raises(OAuthError) as refused:
        client.fetch_token(grant_type="client_credentials")
    assert refused.value.error == "invalid_client"
    response = httpx.post(
        meta["token_endpoint"],
        data={"grant_type": "authorization_code", "code": "x"},
        auth=(registered["client_id"], "wrong"),
    )
    error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"].startswith("Basic")
