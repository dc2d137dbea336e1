"""The sessions a process has seen: a live copy answers with no database read;
a copy is never trusted past its absolute deadline, and never refuses a
session by an idle deadline a use elsewhere may have moved."""

from datetime import timedelta

import pytest

from authgate.domain.sessions import Policy, Session
from authgate.server.session_cache import SessionCache
from authgate.util import clock
from tests.integration.storage.factories import session as make_session
from tests.support.memory import MemoryDatabase

pytestmark = pytest.mark.anyio

POLICY = Policy(idle_timeout=timedelta(hours=1), max_lifetime=timedelta(days=1))


async def stored(db: MemoryDatabase) -> Session:
    now = clock.now()
    session, token_hash = make_session(
        "usr_1", created_at=now, last_active_at=now, expires_at=now + timedelta(days=1)
    )
    await db.stores.sessions.add(session, token_hash)
    return session


async def test_a_live_session_is_read_once() -> None:
    db = MemoryDatabase()
    cache = SessionCache(db, ttl=900)  # type: ignore[arg-type]
    session = await stored(db)
    for _ in range(3):
        assert await cache.alive(session.id, POLICY) == session
    assert db.reads == 1


async def test_a_copy_past_the_absolute_deadline_is_dead_without_a_read() -> None:
    db = MemoryDatabase()
    cache = SessionCache(db, ttl=900)  # type: ignore[arg-type]
    session = await stored(db)
    assert await cache.alive(session.id, POLICY) is not None
    clock.advance(timedelta(days=1).total_seconds())
    assert await cache.alive(session.id, POLICY) is None
    assert db.reads == 1


async def test_a_copy_idle_too_long_is_read_again() -> None:
    db = MemoryDatabase()
    cache = SessionCache(db, ttl=900)  # type: ignore[arg-type]
    session = await stored(db)
    assert await cache.alive(session.id, POLICY) is not None
    clock.advance(timedelta(minutes=50).total_seconds())
    touched = clock.now()
    await db.stores.sessions.touch(session.id, touched)  # used elsewhere
    clock.advance(timedelta(minutes=20).total_seconds())
    found = await cache.alive(session.id, POLICY)  # the copy's deadline is past
    assert found is not None
    assert found.last_active_at == touched
    assert db.reads == 2
    clock.advance(timedelta(hours=1).total_seconds())
    assert await cache.alive(session.id, POLICY) is None  # idle in the store too
    assert db.reads == 3


async def test_a_read_raced_by_an_invalidation_is_not_kept() -> None:
    db = MemoryDatabase()
    cache = SessionCache(db, ttl=900)  # type: ignore[arg-type]
    session = await stored(db)
    db.during_read = lambda: cache.invalidate(session.id)
    assert await cache.alive(session.id, POLICY) is not None
    db.during_read = None
    assert await cache.alive(session.id, POLICY) is not None
    assert await cache.alive(session.id, POLICY) is not None
    assert db.reads == 2  # the raced read was not kept; the second one was


async def test_an_invalidated_session_is_read_again() -> None:
    db = MemoryDatabase()
    cache = SessionCache(db, ttl=900)  # type: ignore[arg-type]
    session = await stored(db)
    assert await cache.alive(session.id, POLICY) is not None
    await db.stores.sessions.revoke(session.id, clock.now(), "logout")
    cache.invalidate(session.id)
    assert await cache.alive(session.id, POLICY) is None
