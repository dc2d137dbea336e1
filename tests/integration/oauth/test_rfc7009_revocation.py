"""Token revocation (RFC 7009), through Authlib's ``revoke_token``."""

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import OAuth2Client

from tests.support.actions import Actions
from tests.support.asserts import error
from tests.support.live import LiveServer
from tests.support.oauth import LoopbackReceiver, audit_events


def me(server: LiveServer, token: str) -> httpx.Response:
    return httpx.get(
        f"{server.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}
    )


def test_revoking_an_access_token(
    server: LiveServer,
    meta: dict[str, Any],
    public_client: dict[str, Any],
    code_flow: Callable[..., Any],
) -> None:
    client, token = code_flow(public_client["client_id"])
    assert me(server, token["access_token"]).status_code == 200  # now cached
    response = client.revoke_token(
        meta["revocation_endpoint"],
        token=token["access_token"],
        token_type_hint="access_token",
    )
    assert response.status_code == 200
    # The guard refuses it at once, cache or not...
    assert me(server, token["access_token"]).status_code == 401
    # ...while the rest of the grant lives on.
    fresh = client.refresh_token(refresh_token=token["refresh_token"])
    assert me(server, fresh["access_token"]).status_code == 200


def test_revoking_a_refresh_token_revokes_its_family_and_access_tokens(
    server: LiveServer,
    meta: dict[str, Any],
    public_client: dict[str, Any],
    code_flow: Callable[..., Any],
    database_url: str,
) -> None:
    client, first = code_flow(public_client["client_id"])
    second = client.refresh_token(refresh_token=first["refresh_token"])
    assert me(server, second["access_token"]).status_code == 200
    # No hint, and an older access token of the grant still alive: all go.
    response = client.revoke_token(
        meta["revocation_endpoint"], token=second["refresh_token"]
    )
    assert response.status_code == 200
    for access in (first["access_token"], second["access_token"]):
        assert me(server, access).status_code == 401
    with pytest.raises(OAuthError):
        client.refresh_token(refresh_token=second["refresh_token"])
    revoked = [
        e for e in audit_events(database_url) if e["action"] == "oauth.token_revoked"
    ]
    assert revoked
    assert revoked[0]["details"]["token_type"] == "refresh_token"
    assert second["refresh_token"] not in str(revoked)


def test_another_clients_token_is_not_revoked(
    server: LiveServer,
    meta: dict[str, Any],
    actions: Actions,
    public_client: dict[str, Any],
    receiver: LoopbackReceiver,
    code_flow: Callable[..., Any],
    authlib: Callable[..., OAuth2Client],
) -> None:
    _client, token = code_flow(public_client["client_id"])
    other = actions.make_client(public=True, redirect_uris=[receiver.registered])
    stranger = authlib(other["client_id"])
    for value in (token["access_token"], token["refresh_token"]):
        # §2.2: 200 regardless, so nothing is revealed; but nothing happens.
        response = stranger.revoke_token(meta["revocation_endpoint"], token=value)
        assert response.status_code == 200
    assert me(server, token["access_token"]).status_code == 200


@pytest.mark.parametrize("value", ["garbage", "a.b.c", "ag_rt_unknown"])
def test_unknown_tokens_answer_200(
    meta: dict[str, Any], public_client: dict[str, Any], value: str
) -> None:
    response = httpx.post(
        meta["revocation_endpoint"],
        data={"token": value, "client_id": public_client["client_id"]},
    )
    assert response.status_code == 200


def test_revocation_needs_client_authentication(
    meta: dict[str, Any], actions: Actions, public_client: dict[str, Any]
) -> None:
    anonymous = httpx.post(meta["revocation_endpoint"], data={"token": "x"})
    error(anonymous, 401, "invalid_client")
    confidential = actions.make_client(grant_types=["client_credentials"])
    wrong = httpx.post(
        meta["revocation_endpoint"],
        data={"token": "x"},
        auth=(confidential["client_id"], "wrong"),
    )
    error(wrong, 401, "invalid_client")
    missing = httpx.post(
        meta["revocation_endpoint"], data={"client_id": public_client["client_id"]}
    )
    error(missing, 400, "invalid_request")


def test_revoking_a_client_credentials_token(
    server: LiveServer,
    meta: dict[str, Any],
    actions: Actions,
    authlib: Callable[..., OAuth2Client],
) -> None:
    service = actions.make_client(grant_types=["client_credentials"])
    client = authlib(service["client_id"], service["client_secret"])
    token = client.fetch_token(grant_type="client_credentials")
    introspect = client.introspect_token(
        meta["introspection_endpoint"], token=token["access_token"]
    )
    assert introspect.json()["active"] is True
    client.revoke_token(meta["revocation_endpoint"], token=token["access_token"])
    after = client.introspect_token(
        meta["introspection_endpoint"], token=token["access_token"]
    )
    assert after.json() == {"active": False}
