"""The invalidation feed hands every outbox row to the caches once, whatever
order the writers commit in.

On PostgreSQL a row's id comes from a sequence when it is inserted, not when
its transaction commits: a transaction holding a lower id can commit after one
holding a higher id, and a reader that only moves past the highest id it has
seen would skip the lower one forever (the instance would keep a revoked
session's token cached until it expires). SQLite cannot commit out of order,
since one writer holds the database's write lock from its first statement to
its commit, but it reuses the ids of deleted rows unless told not to, which a
prune of every row did until migration 0009.
"""

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.server.fanout import InvalidationFeed
from authgate.storage.db import Database, Tx
from authgate.storage.models.invalidations import InvalidationRow
from authgate.util import clock

pytestmark = pytest.mark.anyio

postgresql_only = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@contextlib.asynccontextmanager
async def held_open(db: Database) -> AsyncIterator[AsyncSession]:
    """A write transaction that stays open until the test commits it."""
    async with AsyncSession(db.engine) as session:
        await session.begin()
        yield session


async def write(session: AsyncSession, tag: str) -> None:
    await Tx(session).invalidations.add([tag], clock.now())


async def revoke(db: Database, tag: str) -> None:
    async with db.transaction() as tx:
        tx.invalidate(tag)


async def tags_by_id(db: Database) -> list[str]:
    async with db.read() as tx:
        rows = await tx.session.execute(
            select(InvalidationRow.tags).order_by(InvalidationRow.id)
        )
    return [tag for (tags,) in rows for tag in tags]


@postgresql_only
async def test_a_row_committed_after_a_later_one_is_still_applied(db: Database) -> None:
    applied: list[str] = []
    feed = InvalidationFeed(db, applied.extend, redis_url=None)
    async with held_open(db) as first, held_open(db) as second:
        await write(first, "first")  # takes the lower id
        await write(second, "second")
        await second.commit()
        await feed.catch_up()
        assert applied == ["second"]
        await first.commit()
        assert await tags_by_id(db) == ["first", "second"]  # out of order indeed
        await feed.catch_up()
        assert applied == ["second", "first"]
    await feed.catch_up()
    assert applied == ["second", "first"]  # each once


@postgresql_only
async def test_rows_written_while_a_transaction_stays_open_are_applied_once(
    db: Database,
) -> None:
    """An open writer holds the feed's horizon back, so the feed reads the
    rows committed since then on every poll; it applies each of them once."""
    applied: list[str] = []
    feed = InvalidationFeed(db, applied.extend, redis_url=None)
    async with held_open(db) as idle:
        await write(idle, "idle")
        for tag in ("one", "two", "three"):
            await revoke(db, tag)
            await feed.catch_up()
        await feed.catch_up()
        assert applied == ["one", "two", "three"]
        await idle.rollback()
    await revoke(db, "four")
    await feed.catch_up()
    assert applied == ["one", "two", "three", "four"]


async def test_a_row_written_after_every_row_was_pruned_is_applied(
    db: Database,
) -> None:
    applied: list[str] = []
    feed = InvalidationFeed(db, applied.extend, redis_url=None)
    await revoke(db, "before")
    await feed.catch_up()
    async with db.transaction() as tx:
        await tx.invalidations.prune(clock.now() + timedelta(seconds=1), limit=100)
    await revoke(db, "after")
    await feed.catch_up()
    assert applied == ["before", "after"]


async def test_a_started_feed_applies_only_what_commits_after_it_starts(
    db: Database,
) -> None:
    applied: list[str] = []
    await revoke(db, "before")
    feed = InvalidationFeed(db, applied.extend, redis_url=None)
    await feed.start()
    try:
        await feed.catch_up()
        assert applied == []
        await revoke(db, "after")
        await feed.catch_up()
        assert applied == ["after"]
    finally:
        await feed.stop()
