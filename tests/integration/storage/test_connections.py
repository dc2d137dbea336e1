"""A connection the server closed is never handed to a transaction: the pool
drops it when it is taken out, with no ping (a round trip per transaction)."""

import asyncio

import pytest
from sqlalchemy import text

from authgate.storage.db import Database

pytestmark = pytest.mark.anyio

postgresql_only = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@postgresql_only
async def test_connections_the_server_closed_are_replaced(db: Database) -> None:
    async with db.transaction() as tx:  # a pooled writer
        await tx.users.count()
    async with db.read() as tx:  # and a pooled reader
        await tx.users.count()
    other = Database(db.url)  # ends every other connection to the database
    try:
        async with other.transaction() as tx:
            ended = list(
                await tx.session.scalars(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = current_database()"
                        " AND pid <> pg_backend_pid()"
                    )
                )
            )
            assert ended
            assert all(ended)
    finally:
        await other.close()
    await asyncio.sleep(0.2)  # the loop sees the sockets close
    async with db.transaction() as tx:
        assert await tx.users.count() == 0
    async with db.read() as tx:
        assert await tx.users.count() == 0
