"""Verifying an opaque credential (session cookie, PAT, API key) reads; it
writes only when there is something to write down: ``last_used_at`` or the
idle deadline at most once a minute, a revoked credential's use. So a flood of
made-up tokens never takes the database's write lock (on SQLite, one writer at
a time for the whole server)."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from authgate.util import clock, tokens
from tests.support.actions import Actions
from tests.support.asserts import error
from tests.support.live import LiveServer


@contextmanager
def counting_writes(server: Any) -> Iterator[list[int]]:
    """The number of write transactions the server opens meanwhile."""
    db = server.app.state.services.db
    original = db.transaction
    writes: list[int] = []

    def counted() -> Any:
        writes.append(1)
        return original()

    db.transaction = counted
    try:
        yield writes
    finally:
        del db.transaction  # the class's method again


@pytest.fixture
def uncached(start_server: Callable[..., LiveServer]) -> LiveServer:
    """A server without the verification cache: every request verifies."""
    return start_server(token_cache_size=0)


def me(server: Any, **headers: str) -> Any:
    with server.client() as http:
        return http.get("/api/v1/me", headers=headers)


@pytest.mark.parametrize("kind", ["pat", "key", "ses"])
def test_made_up_tokens_cost_no_write(uncached: LiveServer, kind: str) -> None:
    with counting_writes(uncached) as writes:
        for _ in range(5):
            made_up = tokens.mint("ag", kind)
            if kind == "ses":
                with uncached.client(cookies={"ag_session": made_up}) as browser:
                    error(browser.get("/api/v1/me"), 401)
            else:
                error(me(uncached, Authorization=f"Bearer {made_up}"), 401)
    assert writes == []


def test_a_pat_is_touched_at_most_once_a_minute(uncached: LiveServer) -> None:
    with uncached.client() as http:
        actions = Actions(http)
        alice = actions.user()
        secret = actions.make_pat(alice)["token"]
    bearer = {"Authorization": f"Bearer {secret}"}
    with counting_writes(uncached) as writes:
        assert me(uncached, **bearer).status_code == 200  # first use: touched
        assert len(writes) == 1
        for _ in range(3):
            assert me(uncached, **bearer).status_code == 200
        assert len(writes) == 1
        clock.advance(61)
        assert me(uncached, **bearer).status_code == 200
        assert len(writes) == 2


def test_a_session_slides_at_most_once_a_minute(uncached: LiveServer) -> None:
    with uncached.client() as http:
        alice = Actions(http).user()
    with (
        counting_writes(uncached) as writes,
        uncached.client(cookies=alice.cookies) as browser,
    ):
        for _ in range(3):
            assert browser.get("/api/v1/me").status_code == 200
        assert writes == []  # signed in just now
        clock.advance(61)
        assert browser.get("/api/v1/me").status_code == 200
        assert browser.get("/api/v1/me").status_code == 200
        assert len(writes) == 1


def test_a_revoked_pats_use_is_still_written_down(uncached: LiveServer) -> None:
    with uncached.client() as http:
        actions = Actions(http)
        alice = actions.user()
        pat = actions.make_pat(alice)
        revoked = http.delete(
            f"/api/v1/access-tokens/{pat['id']}", headers=alice.bearer
        )
        assert revoked.status_code == 204
    with counting_writes(uncached) as writes:
        body = error(me(uncached, Authorization=f"Bearer {pat['token']}"), 401)
    assert "revoked" in body["error_description"]
    assert len(writes) == 1
