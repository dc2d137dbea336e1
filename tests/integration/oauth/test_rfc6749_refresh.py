"""Refresh tokens (RFC 6749 §6, OAuth 2.1 §4.3.1): rotation, reuse detection,
revocation, binding to the client, narrowing."""

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from authlib.integrations.base_client import OAuthError

from tests.support.actions import Actions, Login
from tests.support.asserts import error
from tests.support.live import LiveServer
from tests.support.oauth import LoopbackReceiver
from tests.support.race import race


def me(server: LiveServer, token: str) -> httpx.Response:
    return httpx.get(
        f"{server.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}
    )


def test_refresh_rotates(
    server: LiveServer,
    meta: dict[str, Any],
    public_client: dict[str, Any],
    code_flow: Callable[..., Any],
) -> None:
    client, first = code_flow(public_client["client_id"], scope="read write")
    second = client.refresh_token(refresh_token=first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["scope"] == "read write"
    assert me(server, second["access_token"]).status_code == 200
    third = client.refresh_token(refresh_token=second["refresh_token"])
    assert me(server, third["access_token"]).status_code == 200


def test_reuse_revokes_the_family_and_its_access_tokens(
    server: LiveServer,
    meta: dict[str, Any],
    public_client: dict[str, Any],
    code_flow: Callable[..., Any],
) -> None:
    client, first = code_flow(public_client["client_id"])
    second = client.refresh_token(refresh_token=first["refresh_token"])
    assert me(server, second["access_token"]).status_code == 200
    # The old refresh token again: someone else has a copy.
    with pytest.raises(OAuthError) as reused:
        client.refresh_token(refresh_token=first["refresh_token"])
    assert reused.value.error == "invalid_grant"
    # Everything of the grant is gone, the newest tokens included.
    with pytest.raises(OAuthError):
        client.refresh_token(refresh_token=second["refresh_token"])
    assert me(server, second["access_token"]).status_code == 401


def test_two_uses_at_once_rotate_once_and_revoke_the_family(
    server: LiveServer, public_client: dict[str, Any], code_flow: Callable[..., Any]
) -> None:
    _client, token = code_flow(public_client["client_id"])
    form = {
        "grant_type": "refresh_token",
        "client_id": public_client["client_id"],
        "refresh_token": token["refresh_token"],
    }
    responses = race(server, *[lambda http: http.post("/oauth/token", data=form)] * 2)
    assert sorted(r.status_code for r in responses) == [200, 400]
    won, lost = sorted(responses, key=lambda r: r.status_code)
    error(lost, 400, "invalid_grant")
    # The loser's use was a reuse: the winner's new tokens are revoked too.
    with server.client() as http:
        again = http.post(
            "/oauth/token", data={**form, "refresh_token": won.json()["refresh_token"]}
        )
    error(again, 400, "invalid_grant")
    assert me(server, won.json()["access_token"]).status_code == 401


def test_refresh_after_revocation_is_refused(
    meta: dict[str, Any], public_client: dict[str, Any], code_flow: Callable[..., Any]
) -> None:
    client, token = code_flow(public_client["client_id"])
    client.revoke_token(
        meta["revocation_endpoint"],
        token=token["refresh_token"],
        token_type_hint="refresh_token",
    )
    with pytest.raises(OAuthError) as refused:
        client.refresh_token(refresh_token=token["refresh_token"])
    assert refused.value.error == "invalid_grant"


def test_refresh_token_works_only_for_its_client(
    actions: Actions,
    meta: dict[str, Any],
    public_client: dict[str, Any],
    receiver: LoopbackReceiver,
    code_flow: Callable[..., Any],
) -> None:
    _client, token = code_flow(public_client["client_id"])
    other = actions.make_client(public=True, redirect_uris=[receiver.registered])
    response = httpx.post(
        meta["token_endpoint"],
        data={
            "grant_type": "refresh_token",
            "client_id": other["client_id"],
            "refresh_token": token["refresh_token"],
        },
    )
    error(response, 400, "invalid_grant")


def test_first_party_refresh_tokens_are_not_oauth_ones(
    meta: dict[str, Any], public_client: dict[str, Any], user: Login
) -> None:
    response = httpx.post(
        meta["token_endpoint"],
        data={
            "grant_type": "refresh_token",
            "client_id": public_client["client_id"],
            "refresh_token": user.refresh_token,
        },
    )
    error(response, 400, "invalid_grant")


def test_scope_may_narrow_not_widen(
    meta: dict[str, Any], public_client: dict[str, Any], code_flow: Callable[..., Any]
) -> None:
    client, token = code_flow(public_client["client_id"], scope="read")
    with pytest.raises(OAuthError) as wider:
        client.refresh_token(refresh_token=token["refresh_token"], scope="read write")
    assert wider.value.error == "invalid_scope"
    # The refused request did not use the token up.
    narrowed = client.refresh_token(refresh_token=token["refresh_token"], scope="read")
    assert narrowed["scope"] == "read"


def test_client_without_the_refresh_grant_gets_no_refresh_token(
    actions: Actions, receiver: LoopbackReceiver, code_flow: Callable[..., Any]
) -> None:
    registered = actions.make_client(
        public=True,
        redirect_uris=[receiver.registered],
        grant_types=["authorization_code"],
    )
    _client, token = code_flow(registered["client_id"])
    assert "refresh_token" not in token
