"""``/api/v1/api-keys``: read or read-write keys for server-to-server calls,
shown once, accepted as a bearer token or ``X-API-Key`` (and ``?api_key=`` only
when the operator allows it, redacted from the logs), revoked at once."""

import io
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from authgate.server import logs
from authgate.util import clock, tokens
from tests.support.actions import Actions, Login
from tests.support.asserts import error
from tests.support.live import LiveServer

#: For checks of the HTTP layer and settings alone; whatever touches storage
#: runs on both databases.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

KEY_FIELDS = {
    "id",
    "name",
    "display_prefix",
    "permission",
    "org_id",
    "created_at",
    "last_used_at",
    "expires_at",
    "status",
}


def listed(actions: Actions, login: Login) -> list[dict[str, Any]]:
    response = actions.client.get("/api/v1/api-keys", headers=login.bearer)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_create_returns_the_secret_once(actions: Actions, client: httpx.Client) -> None:
    alice = actions.user()
    response = client.post(
        "/api/v1/api-keys",
        headers=alice.bearer,
        json={"name": "billing service", "permission": "write"},
    )
    assert response.status_code == 201, response.text
    created = response.json()
    secret = created["token"]
    parsed = tokens.parse(secret)
    assert parsed is not None
    assert (parsed.prefix, parsed.kind) == ("ag", "key")
    assert created["id"].startswith("key_")
    assert created["permission"] == "write"
    assert created["display_prefix"] == tokens.display_prefix(secret)
    assert created["expires_at"] is None  # no expiry unless asked

    response = client.get("/api/v1/api-keys", headers=alice.bearer)
    assert secret not in response.text
    [item] = response.json()["items"]
    assert set(item) == KEY_FIELDS
    assert item["id"] == created["id"]
    assert item["name"] == "billing service"
    assert item["permission"] == "write"
    assert item["display_prefix"] == created["display_prefix"]
    assert item["expires_at"] is None

    body = client.get("/api/v1/me", headers=Actions.bearer(secret)).json()
    assert body["username"] == alice.username
    assert body["auth"] == {"kind": "api_key", "id": created["id"]}


@SQLITE_ONLY
def test_permission_defaults_to_read_and_is_checked(
    actions: Actions, client: httpx.Client
) -> None:
    alice = actions.user()
    assert actions.make_key(alice)["permission"] == "read"
    for permission in ("admin", "", "READ"):
        response = client.post(
            "/api/v1/api-keys",
            headers=alice.bearer,
            json={"name": "bad", "permission": permission},
        )
        error(response, 400, "invalid_request")
    assert len(listed(actions, alice)) == 1


def test_an_expiry_only_when_asked(actions: Actions, client: httpx.Client) -> None:
    alice = actions.user()
    key = actions.make_key(alice, expires_in_days=10)
    expires = datetime.fromisoformat(key["expires_at"])
    assert abs(expires - (clock.now() + timedelta(days=10))) < timedelta(minutes=1)
    clock.advance(10 * 86_400 + 1)
    response = client.get("/api/v1/me", headers=Actions.bearer(key["token"]))
    assert "expired" in error(response, 401, "invalid_token")["error_description"]


def test_a_read_key_can_look_but_not_touch(
    actions: Actions, client: httpx.Client
) -> None:
    alice = actions.user()
    reader = actions.make_key(alice, permission="read")
    headers = Actions.bearer(reader["token"])
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.get("/api/v1/api-keys", headers=headers).status_code == 200
    assert client.get("/api/v1/sessions", headers=headers).status_code == 200

    refused = [
        client.post("/api/v1/api-keys", headers=headers, json={"name": "x"}),
        client.post(
            "/api/v1/access-tokens",
            headers=headers,
            json={"name": "x", "expires_in_days": 1},
        ),
        client.delete(f"/api/v1/api-keys/{reader['id']}", headers=headers),
        client.post("/api/v1/sessions/revoke-all", headers=headers),
        # The same key in the other header is no different.
        client.post(
            "/api/v1/api-keys",
            headers={"X-API-Key": reader["token"]},
            json={"name": "x"},
        ),
    ]
    for response in refused:
        error(response, 403, "insufficient_scope")
    assert [k["id"] for k in listed(actions, alice)] == [reader["id"]]
    assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_a_write_key_can_write(actions: Actions, client: httpx.Client) -> None:
    alice = actions.user()
    writer = actions.make_key(alice, permission="write")
    response = client.post(
        "/api/v1/orgs",
        headers=Actions.bearer(writer["token"]),
        json={"name": "Made by a key"},
    )
    assert response.status_code == 201, response.text
    orgs = client.get("/api/v1/orgs", headers=Actions.bearer(writer["token"])).json()
    assert [o["name"] for o in orgs["items"]] == ["Made by a key"]


@SQLITE_ONLY
def test_accepted_as_bearer_and_x_api_key_not_in_the_query(
    server: LiveServer, actions: Actions
) -> None:
    alice = actions.user()
    key = actions.make_key(alice)
    with server.client() as fresh:  # no session cookie in the jar
        for headers in (
            {"Authorization": f"Bearer {key['token']}"},
            {"X-API-Key": key["token"]},
        ):
            response = fresh.get("/api/v1/me", headers=headers)
            assert response.status_code == 200, response.text
            assert response.json()["auth"]["id"] == key["id"]
        response = fresh.get("/api/v1/me", params={"api_key": key["token"]})
        error(response, 401, "unauthenticated")


@SQLITE_ONLY
def test_the_query_parameter_only_when_allowed(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(allow_query_api_keys=True)
    with server.client() as http:
        actions = Actions(http)
        alice = actions.user()
        key = actions.make_key(alice)
    with server.client() as fresh:
        response = fresh.get("/api/v1/me", params={"api_key": key["token"]})
        assert response.status_code == 200, response.text
        assert response.json()["auth"] == {"kind": "api_key", "id": key["id"]}
        error(fresh.get("/api/v1/me", params={"api_key": "ag_key_nope"}), 401)


class Capture(io.StringIO):
    """What the server's log handler wrote, line by line."""

    @property
    def lines(self) -> list[str]:
        return self.getvalue().splitlines()


@contextmanager
def access_log() -> Iterator[Capture]:
    """uvicorn's access log, switched on (the live server runs it at warning),
    through the handler ``authgate serve`` logs with. Entered after the server
    starts: uvicorn's logging setup replaces the logger's handlers."""
    logger = logging.getLogger("uvicorn.access")
    capture = Capture()
    handler = logs.handler(stream=capture)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield capture
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@SQLITE_ONLY
def test_a_query_key_never_reaches_the_access_log(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(allow_query_api_keys=True)
    with server.client() as http:
        actions = Actions(http)
        key = actions.make_key(actions.user())["token"]
    with access_log() as log, server.client() as fresh:
        assert fresh.get(f"/api/v1/me?api_key={key}").status_code == 200
        assert fresh.get(f"/api/v1/me?x=1&api_key={key}&y=2").status_code == 200
        # The guard decodes the query, so an encoded name and value work too.
        encoded = key.replace("_", "%5F")
        assert fresh.get(f"/api/v1/me?api%5Fkey={encoded}").status_code == 200
        deadline = time.monotonic() + 5
        while len([x for x in log.lines if "/api/v1/me?" in x]) < 3:
            assert time.monotonic() < deadline, log.lines
            time.sleep(0.01)
    lines = [x for x in log.lines if "/api/v1/me?" in x]
    assert lines[0].endswith('"GET /api/v1/me?api_key=[REDACTED] HTTP/1.1" 200')
    assert "/api/v1/me?x=1&api_key=[REDACTED]&y=2" in lines[1]
    assert "/api/v1/me?api%5Fkey=[REDACTED] " in lines[2]
    for line in log.lines:
        assert key not in line
        assert key[len("ag_key_") :] not in line


def test_revoked_key_fails_on_the_very_next_request(
    actions: Actions, client: httpx.Client
) -> None:
    alice = actions.user()
    key = actions.make_key(alice, permission="write")
    headers = {"X-API-Key": key["token"]}
    assert client.get("/api/v1/me", headers=headers).status_code == 200  # cached
    response = client.delete(f"/api/v1/api-keys/{key['id']}", headers=alice.bearer)
    assert response.status_code == 204, response.text
    for attempt in (headers, Actions.bearer(key["token"])):
        body = error(client.get("/api/v1/me", headers=attempt), 401, "invalid_token")
        assert "revoked" in body["error_description"]
    assert listed(actions, alice) == []


def test_a_write_key_can_revoke_itself(actions: Actions, client: httpx.Client) -> None:
    alice = actions.user()
    key = actions.make_key(alice, permission="write")
    headers = Actions.bearer(key["token"])
    response = client.delete(f"/api/v1/api-keys/{key['id']}", headers=headers)
    assert response.status_code == 204, response.text
    error(client.get("/api/v1/me", headers=headers), 401, "invalid_token")


def test_one_user_cannot_see_or_revoke_anothers_keys(
    actions: Actions, client: httpx.Client
) -> None:
    alice, bob = actions.user(), actions.user()
    alices = actions.make_key(alice, permission="write")
    alices_pat = actions.make_pat(alice)
    bobs = actions.make_key(bob, permission="write")

    assert [k["id"] for k in listed(actions, alice)] == [alices["id"]]
    assert [k["id"] for k in listed(actions, bob)] == [bobs["id"]]

    bobs_pat = Actions.bearer(actions.make_pat(bob)["token"])
    for guess in (alices["id"], alices_pat["id"], "key_doesnotexist"):
        for headers in (bob.bearer, bobs_pat):
            response = client.delete(f"/api/v1/api-keys/{guess}", headers=headers)
            error(response, 404, "not_found")
        # A key revokes nothing but itself, so it is refused before any look-up.
        response = client.delete(
            f"/api/v1/api-keys/{guess}", headers=Actions.bearer(bobs["token"])
        )
        error(response, 403, "forbidden")
    response = client.get("/api/v1/me", headers=Actions.bearer(alices["token"]))
    assert response.json()["username"] == alice.username
    assert [k["id"] for k in listed(actions, alice)] == [alices["id"]]


def test_create_revoke_and_use_after_revoke_are_audited(
    actions: Actions, client: httpx.Client
) -> None:
    alice = actions.user()
    key = actions.make_key(alice, permission="write", name="audited key")
    client.delete(f"/api/v1/api-keys/{key['id']}", headers=alice.bearer)
    error(client.get("/api/v1/me", headers={"X-API-Key": key["token"]}), 401)

    user_id = client.get("/api/v1/me", headers=alice.bearer).json()["id"]
    response = client.get(
        "/api/v1/admin/audit",
        headers=actions.admin().bearer,
        params={"user": user_id, "limit": 200},
    )
    assert response.status_code == 200, response.text
    events = [e for e in response.json()["items"] if e["target_id"] == key["id"]]
    assert {e["action"] for e in events} >= {
        "api_key.created",
        "api_key.revoked",
        "credential.used_after_revoke",
    }
    assert all(e["actor_id"] == user_id for e in events)
    assert key["token"] not in response.text
    assert key["token"][len("ag_key_") :] not in response.text
