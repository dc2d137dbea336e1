"""The guard resolves PATs and API keys from its cache with no database round
trip, drops them on revocation, and records ``last_used_at`` at most once a
minute per credential rather than on every request."""

from datetime import datetime, timedelta
from typing import Any

import pytest

from authgate.guard import VerificationCache
from authgate.util import clock
from tests.support.actions import Actions, Login
from tests.support.db import statements
from tests.support.live import LiveServer


def cache(server: LiveServer) -> VerificationCache:
    found: VerificationCache = server.app.state.services.cache
    return found


def make(actions: Actions, login: Login, kind: str) -> dict[str, Any]:
    if kind == "pat":
        return actions.make_pat(login)
    return actions.make_key(login, permission="write")


def last_used(actions: Actions, login: Login, kind: str, id_: str) -> datetime | None:
    path = "/api/v1/access-tokens" if kind == "pat" else "/api/v1/api-keys"
    response = actions.client.get(path, headers=login.bearer)
    [item] = [i for i in response.json()["items"] if i["id"] == id_]
    return (
        datetime.fromisoformat(item["last_used_at"]) if item["last_used_at"] else None
    )


@pytest.fixture(params=["pat", "key"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_a_cached_credential_costs_no_database_round_trip(
    server: LiveServer, actions: Actions, kind: str
) -> None:
    alice = actions.user()
    secret = make(actions, alice, kind)["token"]
    headers = Actions.bearer(secret)
    key = VerificationCache.key(secret)
    assert cache(server).get(key) is None

    with statements(server) as first:
        assert actions.client.get("/api/v1/me", headers=headers).status_code == 200
    assert first  # the miss went to the database
    principal = cache(server).get(key)
    assert principal is not None
    assert principal.kind == ("pat" if kind == "pat" else "api_key")
    assert secret not in repr(cache(server)._entries)  # keyed by digest only

    with statements(server) as second:
        response = actions.client.get("/api/v1/me", headers=headers)
        assert response.status_code == 200
    assert second == []
    assert response.json()["username"] == alice.username


def test_revocation_evicts_at_once(
    server: LiveServer, actions: Actions, kind: str
) -> None:
    alice = actions.user()
    made = make(actions, alice, kind)
    headers = Actions.bearer(made["token"])
    key = VerificationCache.key(made["token"])
    assert actions.client.get("/api/v1/me", headers=headers).status_code == 200
    assert cache(server).get(key) is not None

    path = "/api/v1/access-tokens" if kind == "pat" else "/api/v1/api-keys"
    response = actions.client.delete(f"{path}/{made['id']}", headers=alice.bearer)
    assert response.status_code == 204
    assert cache(server).get(key) is None
    assert actions.client.get("/api/v1/me", headers=headers).status_code == 401
    assert cache(server).get(key) is None  # refusals are not cached


def test_last_used_is_written_at_most_once_a_minute(
    server: LiveServer, actions: Actions, kind: str
) -> None:
    alice = actions.user()
    made = make(actions, alice, kind)
    headers = Actions.bearer(made["token"])
    assert last_used(actions, alice, kind, made["id"]) is None

    actions.client.get("/api/v1/me", headers=headers)
    first = last_used(actions, alice, kind, made["id"])
    assert first is not None
    assert abs(first - clock.now()) < timedelta(seconds=30)

    # Re-verified (cache dropped) within the minute: read, but no write.
    cache(server).clear()
    with statements(server) as seen:
        assert actions.client.get("/api/v1/me", headers=headers).status_code == 200
    assert seen
    assert not [s for s in seen if s.lstrip().upper().startswith("UPDATE")]
    assert last_used(actions, alice, kind, made["id"]) == first

    clock.advance(30)
    with statements(server) as seen:
        for _ in range(3):
            assert actions.client.get("/api/v1/me", headers=headers).is_success
    assert seen == []  # cached again since the re-check
    assert last_used(actions, alice, kind, made["id"]) == first

    clock.advance(31)  # a minute and a second after the first use
    with statements(server) as seen:
        assert actions.client.get("/api/v1/me", headers=headers).status_code == 200
    assert seen  # the cached entry lasted a minute: re-checked in the database
    later = last_used(actions, alice, kind, made["id"])
    assert later is not None
    assert later - first >= timedelta(seconds=61)
