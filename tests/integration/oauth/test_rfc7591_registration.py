"""Dynamic client registration (RFC 7591): open for public native clients with
loopback (or, when allowed, https) redirect URIs; anything else needs an
administrator's bearer token."""

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from authlib.integrations.httpx_client import OAuth2Client

from authgate.util import clock
from tests.support.actions import Actions
from tests.support.asserts import error
from tests.support.live import LiveServer
from tests.support.oauth import LoopbackReceiver, discover


def register(
    meta: dict[str, Any], body: object, token: str | None = None
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(meta["registration_endpoint"], json=body, headers=headers)


def test_open_registration_of_a_loopback_native_client(
    meta: dict[str, Any],
    receiver: LoopbackReceiver,
    code_flow: Callable[..., Any],
    database_url: str,
) -> None:
    response = register(
        meta,
        {
            "client_name": "My CLI",
            "redirect_uris": [receiver.registered, "http://[::1]/callback"],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
        },
    )
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    client = response.json()
    assert client["client_id"]
    assert "client_secret" not in client
    assert client["token_endpoint_auth_method"] == "none"
    assert client["grant_types"] == ["authorization_code", "refresh_token"]
    # And it works.
    _authlib, token = code_flow(client["client_id"])
    assert token["access_token"]


def test_defaults_for_open_registration(meta: dict[str, Any]) -> None:
    response = register(meta, {"redirect_uris": ["http://localhost/cb"]})
    assert response.status_code == 201, response.text
    client = response.json()
    assert client["token_endpoint_auth_method"] == "none"
    assert client["grant_types"] == ["authorization_code", "refresh_token"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"redirect_uris": ["https://app.example.com/cb"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["com.example.app:/cb"]}, "invalid_redirect_uri"),
        (
            {
                "redirect_uris": ["http://127.0.0.1/cb"],
                "token_endpoint_auth_method": "client_secret_basic",
            },
            "invalid_client_metadata",
        ),
        (
            {"grant_types": ["client_credentials"], "redirect_uris": []},
            "invalid_client_metadata",
        ),
        ({"redirect_uris": ["http://127.0.0.1/cb#frag"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["http://127.0.0.1/*"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["http://evil.example/cb"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["javascript:alert(1)"]}, "invalid_redirect_uri"),
        ({"redirect_uris": "http://127.0.0.1/cb"}, "invalid_client_metadata"),
        (
            {"redirect_uris": ["http://127.0.0.1/cb"], "response_types": ["token"]},
            "invalid_client_metadata",
        ),
        (
            {"redirect_uris": ["http://127.0.0.1/cb"], "scope": "read admin"},
            "invalid_client_metadata",
        ),
        ([], "invalid_client_metadata"),
    ],
)
def test_refused_open_registrations(
    meta: dict[str, Any], body: object, code: str
) -> None:
    error(register(meta, body), 400, code)


def test_not_json(meta: dict[str, Any]) -> None:
    response = httpx.post(meta["registration_endpoint"], content=b"{nope")
    error(response, 400, "invalid_request")


def test_https_redirects_when_the_policy_allows(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(open_client_registration="https")
    meta = discover(server.url)
    response = register(meta, {"redirect_uris": ["https://app.example.com/cb"]})
    assert response.status_code == 201, response.text
    # Still public only.
    confidential = register(
        meta,
        {
            "redirect_uris": ["https://app.example.com/cb"],
            "token_endpoint_auth_method": "client_secret_post",
        },
    )
    error(confidential, 400, "invalid_client_metadata")


def test_closed_registration_needs_an_admin(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(open_client_registration="none")
    meta = discover(server.url)
    refused = register(meta, {"redirect_uris": ["http://127.0.0.1/cb"]})
    error(refused, 401, "invalid_token")
    assert refused.headers["www-authenticate"].startswith("Bearer")
    with server.client() as http:
        actions = Actions(http)
        admin = actions.admin()
        user = actions.user()
    # A signed-in non-admin is no better than nobody.
    error(
        register(meta, {"redirect_uris": ["http://127.0.0.1/cb"]}, user.access_token),
        401,
        "invalid_token",
    )
    allowed = register(
        meta, {"redirect_uris": ["http://127.0.0.1/cb"]}, admin.access_token
    )
    assert allowed.status_code == 201, allowed.text


def test_an_admin_registration_needs_a_recent_sign_in(
    meta: dict[str, Any], actions: Actions
) -> None:
    """Registering as an administrator is an admin change (RFC 9470)."""
    admin = actions.admin()
    clock.advance(10 * 60 + 1)
    body = {"client_name": "Billing", "grant_types": ["client_credentials"]}
    refused = register(meta, body, admin.access_token)
    error(refused, 401, "insufficient_user_authentication")
    assert 'max_age="600"' in refused.headers["www-authenticate"]
    again = actions.login(admin.username)
    assert register(meta, body, again.access_token).status_code == 201


def test_an_admin_registers_a_confidential_client(
    meta: dict[str, Any], actions: Actions, authlib: Callable[..., OAuth2Client]
) -> None:
    admin = actions.admin()
    response = register(
        meta,
        {
            "client_name": "Billing service",
            "grant_types": ["client_credentials"],
            "token_endpoint_auth_method": "client_secret_post",
            "scope": "read",
        },
        admin.access_token,
    )
    assert response.status_code == 201, response.text
    client = response.json()
    assert client["client_secret"].startswith("ag_cs_")
    assert client["client_secret_expires_at"] == 0
    assert client["scope"] == "read"
    listed = actions.client.get("/api/v1/admin/clients", headers=admin.bearer).json()
    [found] = [c for c in listed["items"] if c["client_id"] == client["client_id"]]
    assert found["registration"] == "admin"
    assert "client_secret" not in found
    oauth = authlib(
        client["client_id"],
        client["client_secret"],
        token_endpoint_auth_method="client_secret_post",
    )
    assert oauth.fetch_token(grant_type="client_credentials")["scope"] == "read"
