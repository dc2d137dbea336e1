"""Credentials made with credentials: a leaked token must not become a
longer-lived or stronger one, and only API keys may travel in a URL."""

from collections.abc import Callable
from typing import Any

import httpx

from tests.support.actions import Actions
from tests.support.live import LiveServer


def _pat(
    client: httpx.Client,
    headers: dict[str, str],
    days: int,
    scopes: list[str] | None = None,
) -> httpx.Response:
    body: dict[str, Any] = {
        "name": "t",
        "expires_in_days": days,
        **({"scopes": scopes} if scopes else {}),
    }
    return client.post("/api/v1/access-tokens", headers=headers, json=body)


def test_a_token_cannot_make_a_longer_lived_token(
    actions: Actions, client: httpx.Client
) -> None:
    admin = actions.admin()
    short = _pat(client, admin.bearer, 1).json()["token"]
    with_short = {"Authorization": f"Bearer {short}"}
    refused = _pat(client, with_short, 30)
    assert refused.status_code == 403
    assert "outlive" in refused.json()["error_description"]
    made = _pat(client, with_short, 1)
    assert made.status_code == 201
    parent = client.get("/api/v1/access-tokens", headers=admin.bearer).json()["items"]
    ceiling = max(t["expires_at"] for t in parent if t["id"] != made.json()["id"])
    assert made.json()["expires_at"] <= ceiling


def test_a_token_cannot_widen_its_scopes(
    actions: Actions, client: httpx.Client
) -> None:
    admin = actions.admin()
    # A read-only token cannot write at all; a write-only subset is the ceiling.
    writer = _pat(client, admin.bearer, 5, ["write"]).json()["token"]
    headers = {"Authorization": f"Bearer {writer}"}
    assert _pat(client, headers, 1, ["read", "write"]).status_code == 403
    assert _pat(client, headers, 1, ["write"]).status_code == 201


def test_an_api_key_makes_no_credentials(
    actions: Actions, client: httpx.Client
) -> None:
    admin = actions.admin()
    key = client.post(
        "/api/v1/api-keys",
        headers=admin.bearer,
        json={"name": "k", "permission": "write"},
    ).json()["token"]
    headers = {"Authorization": f"Bearer {key}"}
    assert _pat(client, headers, 1).status_code == 403
    made = client.post("/api/v1/api-keys", headers=headers, json={"name": "k2"})
    assert made.status_code == 403


def test_only_api_keys_travel_in_the_query(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(allow_query_api_keys=True)
    with server.client() as client:
        from tests.support.actions import Actions

        admin = Actions(client).admin()
        pat = _pat(client, admin.bearer, 1).json()["token"]
        key = client.post(
            "/api/v1/api-keys", headers=admin.bearer, json={"name": "k"}
        ).json()["token"]
    with server.client() as fresh:  # no session cookie in its jar
        assert fresh.get("/api/v1/me", params={"api_key": key}).status_code == 200
        assert fresh.get("/api/v1/me", params={"api_key": pat}).status_code == 401
        jwt = admin.access_token
        assert fresh.get("/api/v1/me", params={"api_key": jwt}).status_code == 401
