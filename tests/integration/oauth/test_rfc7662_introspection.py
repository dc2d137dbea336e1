"""Token introspection (RFC 7662): open to every confidential client, answering
for JWT access tokens, refresh tokens, PATs and API keys alike."""

import httpx
import pytest

from authgate.util import clock
from tests.support.asserts import error


@pytest.fixture
def resource_server(actions, authlib):
    """A confidential client, as a resource server would hold."""
    registered = actions.make_client(grant_types=["client_credentials"])
    return authlib(registered["client_id"], registered["client_secret"])


def introspect(meta, client, token):
    response = client.introspect_token(meta["introspection_endpoint"], token=token)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return response.json()


def test_jwt_access_token(
    server, meta, public_client, code_flow, resource_server, user
):
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


def test_refresh_token_only_to_its_own_client(
    meta, actions, public_client, code_flow, resource_server, receiver, authlib, user
):
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
    assert introspect(meta, resource_server, token["refresh_token"]) == {
        "active": False
    }


def test_personal_access_tokens_and_api_keys(
    meta, actions, user, resource_server, server
):
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


def test_first_party_session_token(meta, user, resource_server):
    answer = introspect(meta, resource_server, user.access_token)
    assert answer["active"] is True
    assert answer["client_id"] == "authgate"
    assert answer["sid"]


@pytest.mark.parametrize(
    "token", ["garbage", "a.b.c", "ag_pat_" + "A" * 49, "eyJ0eXAiOiJKV1QifQ.e30.x"]
)
def test_unknown_tokens_are_inactive(meta, resource_server, token):
    assert introspect(meta, resource_server, token) == {"active": False}


def test_expired_jwt_is_inactive(meta, public_client, code_flow, resource_server):
    _client, token = code_flow(public_client["client_id"])
    clock.advance(16 * 60)
    assert introspect(meta, resource_server, token["access_token"]) == {"active": False}


def test_public_clients_and_strangers_may_not_introspect(meta, public_client):
    public = httpx.post(
        meta["introspection_endpoint"],
        data={"token": "x", "client_id": public_client["client_id"]},
    )
    error(public, 401, "invalid_client")
    anonymous = httpx.post(meta["introspection_endpoint"], data={"token": "x"})
    error(anonymous, 401, "invalid_client")
