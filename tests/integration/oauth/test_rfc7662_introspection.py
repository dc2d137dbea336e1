"""Token introspection (RFC 7662): open to every confidential client, answering
for JWT access tokens, refresh tokens, PATs and API keys alike."""

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from authlib.integrations.httpx_client import OAuth2Client

from authgate.util import clock
from tests.support.actions import Actions, Login
from tests.support.asserts import error
from tests.support.live import LiveServer
from tests.support.oauth import LoopbackReceiver


@pytest.fixture
def resource_server(
    actions: Actions, authlib: Callable[..., OAuth2Client]
) -> OAuth2Client:
    """A confidential client, as a resource server would hold."""
    registered = actions.make_client(grant_types=["client_credentials"])
    return authlib(registered["client_id"], registered["client_secret"])


def introspect(meta: dict[str, Any], client: OAuth2Client, token: str) -> Any:
    response = client.introspect_token(meta["introspection_endpoint"], token=token)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return response.json()


def test_jwt_access_token(
    server: LiveServer,
    meta: dict[str, Any],
    public_client: dict[str, Any],
    code_flow: Callable[..., Any],
    resource_server: OAuth2Client,
    user: Login,
) -> None:
    _client, token = code_flow(public_client["client_id"], scope="openid read")
    answer = introspect(meta, resource_server, token["access_token"])
    assert answer["active"] is True
    assert answer["token_type"] == "Bearer"
    assert answer["scope"] == "openid read"
    assert answer["aud"] == server.url
    assert answer["client_id"] == public_client["client_id"]
    assert answer["username"] == user.username
    assert answer["iss"] == server.url
    assert isinstance(answer["exp"], int)
    assert answer["sub"]
    # RFC 9470 §6.2: how the person signed in, for a resource's step-up.
    assert (answer["amr"], answer["acr"]) == (["pwd"], "aal1")
    assert isinstance(answer["auth_time"], int)


def test_refresh_token_only_to_its_own_client(
    meta: dict[str, Any],
    actions: Actions,
    public_client: dict[str, Any],
    code_flow: Callable[..., Any],
    resource_server: OAuth2Client,
    receiver: LoopbackReceiver,
    authlib: Callable[..., OAuth2Client],
    user: Login,
) -> None:
    # Public clients may not introspect; a confidential client that owns the
    # token may, and sees it; a stranger sees nothing.
    owner = actions.make_client(redirect_uris=[receiver.registered])
    _client, token = code_flow(owner["client_id"], owner["client_secret"])
    mine = authlib(owner["client_id"], owner["client_secret"])
    answer = introspect(meta, mine, token["refresh_token"])
    assert answer["active"] is True
    assert answer["token_type"] == "refresh_token"
    assert answer["client_id"] == owner["client_id"]
    assert answer["username"] == user.username
    assert (answer["amr"], answer["acr"]) == (["pwd"], "aal1")
    assert introspect(meta, resource_server, token["refresh_token"]) == {
        "active": False
    }


def test_personal_access_tokens_and_api_keys(
    meta: dict[str, Any],
    actions: Actions,
    user: Login,
    resource_server: OAuth2Client,
    server: LiveServer,
) -> None:
    pat = actions.make_pat(user, scopes=["read"])
    answer = introspect(meta, resource_server, pat["token"])
    assert answer["active"] is True
    assert answer["scope"] == "read"
    assert answer["username"] == user.username
    assert answer["jti"] == pat["id"]
    assert answer["aud"] == server.url
    key = actions.make_key(user, permission="write")
    answer = introspect(meta, resource_server, key["token"])
    assert answer["active"] is True
    assert answer["scope"] == "read write"
    assert answer["jti"] == key["id"]
    # Revoked: inactive.
    revoked = actions.client.delete(
        f"/api/v1/access-tokens/{pat['id']}", headers=user.bearer
    )
    assert revoked.status_code == 204
    assert introspect(meta, resource_server, pat["token"]) == {"active": False}


def test_first_party_session_token(
    meta: dict[str, Any], user: Login, resource_server: OAuth2Client
) -> None:
    answer = introspect(meta, resource_server, user.access_token)
    assert answer["active"] is True
    assert answer["client_id"] == "authgate"
    assert answer["sid"]


@pytest.mark.parametrize(
    "token", ["garbage", "a.b.c", "ag_pat_" + "A" * 49, "eyJ0eXAiOiJKV1QifQ.e30.x"]
)
def test_unknown_tokens_are_inactive(
    meta: dict[str, Any], resource_server: OAuth2Client, token: str
) -> None:
    assert introspect(meta, resource_server, token) == {"active": False}


def test_expired_jwt_is_inactive(
    meta: dict[str, Any],
    public_client: dict[str, Any],
    code_flow: Callable[..., Any],
    resource_server: OAuth2Client,
) -> None:
    _client, token = code_flow(public_client["client_id"])
    clock.advance(16 * 60)
    assert introspect(meta, resource_server, token["access_token"]) == {"active": False}


def test_public_clients_and_strangers_may_not_introspect(
    meta: dict[str, Any], public_client: dict[str, Any]
) -> None:
    public = httpx.post(
        meta["introspection_endpoint"],
        data={"token": "x", "client_id": public_client["client_id"]},
    )
    error(public, 401, "invalid_client")
    anonymous = httpx.post(meta["introspection_endpoint"], data={"token": "x"})
    error(anonymous, 401, "invalid_client")
