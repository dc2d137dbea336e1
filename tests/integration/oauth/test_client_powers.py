"""What another OAuth client's token may do (``domain/authority.py``): the
consented scopes, never the person's account, and administration only with
the ``admin`` scope, which only an administrator grants, and only to a client
an administrator registered. Tokens are obtained the way the clients get them:
Authlib through the consent page or ``/device``."""

from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import OAuth2Client

from tests.support.actions import Actions, Login
from tests.support.asserts import error
from tests.support.live import LiveServer
from tests.support.oauth import DEVICE_GRANT, Browser, LoopbackReceiver, query

# The rules live above storage; one database is enough.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def register(meta: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(meta["registration_endpoint"], json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def device_token(
    meta: dict[str, Any], app: Any, browser: Browser, scope: str | None
) -> dict[str, Any]:
    """The device flow through Authlib, approved on ``/device`` by ``browser``
    (``scope=None`` asks for none)."""
    started = app.request(
        "POST",
        meta["device_authorization_endpoint"],
        data={"client_id": app.client_id, **({"scope": scope} if scope else {})},
        withhold_token=True,
    )
    assert started.status_code == 200, started.text
    decided = browser.decide_device(started.json()["user_code"])
    assert decided.status_code == 200, decided.text
    return dict(
        app.fetch_token(
            grant_type=DEVICE_GRANT, device_code=started.json()["device_code"]
        )
    )


def scopes_of(token: dict[str, Any]) -> set[str]:
    claims = jwt.decode(token["access_token"], options={"verify_signature": False})
    return set(claims["scope"].split())


def refused_everything_but_reading(
    client: httpx.Client, actions: Actions, owner: Login, token: str
) -> None:
    """A token in some application's hands: it reads, and it may write data,
    but it makes no credential, changes nothing of how its person signs in,
    ends no session, touches no membership and administers nothing."""
    headers = Actions.bearer(token)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    sessions = client.get("/api/v1/sessions", headers=headers)
    assert sessions.status_code == 200, sessions.text  # listing is reading
    assert client.get("/api/v1/access-tokens", headers=headers).status_code == 200

    org = actions.make_org(owner)["id"]
    member = actions.org_member(owner, org)
    member_id = client.get("/api/v1/me", headers=member.bearer).json()["id"]
    invite = actions.org_invite(owner, org, "later@example.com")
    pat = actions.make_pat(owner)
    session_id = sessions.json()["items"][0]["id"]
    for method, path, body in (
        ("POST", "/api/v1/access-tokens", {"name": "t", "expires_in_days": 365}),
        ("POST", "/api/v1/api-keys", {"name": "k", "permission": "write"}),
        ("DELETE", f"/api/v1/access-tokens/{pat['id']}", None),
        ("POST", "/api/v1/recovery-key", {"password": "whatever-it-is"}),
        ("DELETE", f"/api/v1/sessions/{session_id}", None),
        ("POST", "/api/v1/sessions/revoke-all", None),
        ("DELETE", "/api/v1/authorized-apps/cl_any", None),
        ("POST", f"/api/v1/orgs/{org}/invites", {"email": "x@example.com"}),
        ("DELETE", f"/api/v1/orgs/{org}/invites/{invite['id']}", None),
        ("PATCH", f"/api/v1/orgs/{org}/members/{member_id}", {"role": "admin"}),
        ("DELETE", f"/api/v1/orgs/{org}/members/{member_id}", None),
        ("DELETE", f"/api/v1/orgs/{org}", None),
        ("POST", "/api/v1/org-invites/accept", {"code": invite["code"]}),
    ):
        response = client.request(method, path, headers=headers, json=body)
        error(response, 403, "forbidden")
    for path in ("/api/v1/admin/users", "/api/v1/admin/audit"):
        error(client.get(path, headers=headers), 403)
    created = client.post(
        "/api/v1/admin/users",
        headers=headers,
        json={"username": "sneaky", "password": "x" * 16, "is_admin": True},
    )
    error(created, 403)
    # Nothing happened meanwhile.
    assert client.get("/api/v1/me", headers=owner.bearer).status_code == 200
    tokens = client.get("/api/v1/access-tokens", headers=owner.bearer).json()
    assert [t["id"] for t in tokens["items"]] == [pat["id"]]
    assert client.get("/api/v1/me", headers=member.bearer).json()["id"] == member_id


def test_a_dynamic_client_named_like_the_cli_gets_no_account_through_device(
    server: LiveServer,
    meta: dict[str, Any],
    authlib: Callable[..., OAuth2Client],
    actions: Actions,
    client: httpx.Client,
) -> None:
    """The issue's attack: a client registered as "authgate-cli", approved
    once on /device by an administrator."""
    registered = register(
        meta,
        {
            "client_name": "authgate-cli",
            "token_endpoint_auth_method": "none",
            "grant_types": [DEVICE_GRANT, "refresh_token"],
        },
    )
    assert registered["client_id"] != "authgate-cli"
    admin = actions.admin()
    with Browser(server.url, admin) as browser:
        token = device_token(
            meta, authlib(registered["client_id"]), browser, "read write"
        )
    refused_everything_but_reading(client, actions, admin, token["access_token"])


def test_a_dynamic_clients_code_flow_token_gets_no_account(
    meta: dict[str, Any],
    code_flow: Callable[..., Any],
    receiver: LoopbackReceiver,
    actions: Actions,
    client: httpx.Client,
    user: Login,
) -> None:
    registered = register(
        meta,
        {
            "client_name": "authgate-cli",
            "redirect_uris": [receiver.registered],
            "token_endpoint_auth_method": "none",
        },
    )
    _app, token = code_flow(registered["client_id"], scope="read write")
    refused_everything_but_reading(client, actions, user, token["access_token"])


def test_a_dynamic_client_cannot_ask_for_admin(
    meta: dict[str, Any],
    start: Callable[..., Any],
    receiver: LoopbackReceiver,
    authlib: Callable[..., OAuth2Client],
    browser: Browser,
) -> None:
    refused = httpx.post(
        meta["registration_endpoint"],
        json={
            "redirect_uris": [receiver.registered],
            "token_endpoint_auth_method": "none",
            "scope": "read admin",
        },
    )
    error(refused, 400, "invalid_client_metadata")

    registered = register(
        meta,
        {
            "redirect_uris": [receiver.registered],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token", DEVICE_GRANT],
        },
    )
    _app, url, _state, _verifier = start(
        registered["client_id"], receiver.redirect_uri, scope="read admin"
    )
    answer = query(browser.open(url).headers["location"])
    assert answer["error"] == "invalid_scope"
    assert "administrator" in answer["error_description"]

    device = httpx.post(
        meta["device_authorization_endpoint"],
        data={"client_id": registered["client_id"], "scope": "admin"},
    )
    error(device, 400, "invalid_scope")


def test_an_admin_created_client_with_admin_granted_by_an_admin_administers(
    server: LiveServer,
    meta: dict[str, Any],
    authlib: Callable[..., OAuth2Client],
    actions: Actions,
    client: httpx.Client,
) -> None:
    made = actions.make_client(
        public=True, grant_types=["device_code", "refresh_token"]
    )
    app = authlib(made["client_id"])
    # Asked for nothing, it gets read and write, never admin.
    with Browser(server.url, actions.admin()) as browser:
        plain = device_token(meta, app, browser, None)
        assert scopes_of(plain) == {"read", "write"}
        error(
            client.get(
                "/api/v1/admin/users", headers=Actions.bearer(plain["access_token"])
            ),
            403,
            "insufficient_scope",
        )
        granted = device_token(meta, app, browser, "read admin")
    assert scopes_of(granted) == {"read", "admin"}
    headers = Actions.bearer(granted["access_token"])
    assert client.get("/api/v1/admin/users", headers=headers).status_code == 200
    # Administration, but still not the account: it makes no credential.
    error(
        client.post(
            "/api/v1/access-tokens",
            headers=headers,
            json={"name": "t", "expires_in_days": 1},
        ),
        403,
    )
    # A refresh keeps what was granted, and no more.
    refreshed = app.refresh_token(meta["token_endpoint"], granted["refresh_token"])
    assert scopes_of(refreshed) == {"read", "admin"}


def test_admin_approved_by_a_non_admin_is_dropped(
    server: LiveServer,
    meta: dict[str, Any],
    authlib: Callable[..., OAuth2Client],
    actions: Actions,
    client: httpx.Client,
    browser: Browser,
) -> None:
    made = actions.make_client(
        public=True, grant_types=["device_code", "refresh_token"]
    )
    token = device_token(meta, authlib(made["client_id"]), browser, "read admin")
    assert scopes_of(token) == {"read"}
    assert token["scope"] == "read"
    headers = Actions.bearer(token["access_token"])
    error(client.get("/api/v1/admin/users", headers=headers), 403, "forbidden")


def test_discovery_lists_the_admin_scope(meta: dict[str, Any]) -> None:
    assert "admin" in meta["scopes_supported"]


def test_the_admin_scope_with_the_code_flow_of_an_admin_created_client(
    server: LiveServer,
    meta: dict[str, Any],
    start: Callable[..., Any],
    receiver: LoopbackReceiver,
    actions: Actions,
    client: httpx.Client,
) -> None:
    made = actions.make_client(
        public=True,
        redirect_uris=[receiver.registered],
        grant_types=["authorization_code", "refresh_token"],
    )
    app, url, _state, verifier = start(
        made["client_id"], receiver.redirect_uri, scope="read admin"
    )
    with Browser(server.url, actions.admin()) as browser:
        consent = browser.consent(url)
        assert "Administer this Authgate server" in consent.text
        receiver.follow(browser.decide(consent, "approve").headers["location"])
    token = app.fetch_token(
        authorization_response=receiver.received[-1], code_verifier=verifier
    )
    headers = Actions.bearer(token["access_token"])
    assert client.get("/api/v1/admin/users", headers=headers).status_code == 200


def test_a_client_credentials_grant_never_gets_admin(
    actions: Actions, authlib: Callable[..., OAuth2Client]
) -> None:
    made = actions.make_client(grant_types=["client_credentials"])
    app = authlib(made["client_id"], made["client_secret"])
    with pytest.raises(OAuthError) as refused:
        app.fetch_token(grant_type="client_credentials", scope="admin")
    assert refused.value.error == "invalid_scope"
    assert "admin" not in app.fetch_token(grant_type="client_credentials")["scope"]


def test_admin_a_non_admin_approved_is_not_remembered(
    meta: dict[str, Any],
    start: Callable[..., Any],
    receiver: LoopbackReceiver,
    actions: Actions,
    client: httpx.Client,
    browser: Browser,
    user: Login,
) -> None:
    made = actions.make_client(
        public=True,
        redirect_uris=[receiver.registered],
        grant_types=["authorization_code", "refresh_token"],
    )
    app, url, _state, verifier = start(
        made["client_id"], receiver.redirect_uri, scope="read admin"
    )
    receiver.follow(browser.authorize(url))
    token = app.fetch_token(
        authorization_response=receiver.received[-1], code_verifier=verifier
    )
    assert scopes_of(token) == {"read"}
    # Made an administrator later, the person is asked again: what they could
    # not give then was not remembered as given.
    user_id = client.get("/api/v1/me", headers=user.bearer).json()["id"]
    promoted = client.patch(
        f"/api/v1/admin/users/{user_id}",
        headers=actions.admin().bearer,
        json={"is_admin": True},
    )
    assert promoted.status_code == 200, promoted.text
    _app, url, _state, _verifier = start(
        made["client_id"], receiver.redirect_uri, scope="read admin"
    )
    assert browser.open(url).status_code == 200  # the consent page again
