"""``Database.read()``: read-only transactions for the request path. They see
committed data, refuse writes on every database, and on SQLite do not wait
for a writer that holds the write lock."""

import asyncio

import pytest
from sqlalchemy.exc import DBAPIError

from authgate.storage.db import Database
from tests.integration.storage.factories import user

pytestmark = pytest.mark.anyio


async def test_a_read_sees_what_was_committed(db: Database) -> None:
    alice = user()
    async with db.transaction() as tx:
        await tx.users.add(alice)
    async with db.read() as tx:
        assert await tx.users.get(alice.id) == alice


async def test_a_read_refuses_writes(db: Database) -> None:
    with pytest.raises(DBAPIError):
        async with db.read() as tx:
            await tx.users.add(user())
    async with db.transaction() as tx:
        assert await tx.users.count() == 0


async def test_writes_still_work_after_a_read_on_the_same_pool(db: Database) -> None:
    async with db.read() as tx:
        await tx.users.count()
    async with db.transaction() as tx:
        await tx.users.add(user())
    async with db.read() as tx:
        assert await tx.users.count() == 1


async def test_a_read_does_not_wait_for_a_writer(database_url: str) -> None:
    """On SQLite a write transaction holds the database's write lock from its
    first statement (BEGIN IMMEDIATE); readers must not queue behind it."""
    db = Database(database_url)
    alice = user()
    try:
        async with db.transaction() as tx:
            await tx.users.add(alice)
        async with db.transaction() as writer:
            await writer.users.add(user())  # the writer holds its locks now
            async with asyncio.timeout(5):
                async with db.read() as reader:
                    assert await reader.users.get(alice.id) == alice
    finally:
        await db.close()
