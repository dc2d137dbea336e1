"""Look into the database a live server uses, from the test thread.

Each call opens its own engine in its own event loop: the server's connection
pool belongs to the server's loop (asyncpg connections cannot cross loops).
``statements`` instead listens on the server's own engines, to count what its
requests ask of the database.
"""

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, MetaData, event, select

from authgate.storage.db import Database, Tx
from tests.support.live import LiveServer

T = TypeVar("T")


def run(url: str, use: Callable[[Tx], Awaitable[T]]) -> T:
    """``use(tx)`` in one transaction on a fresh connection to ``url``."""

    async def main() -> T:
        db = Database(url)
        try:
            async with db.transaction() as tx:
                return await use(tx)
        finally:
            await db.close()

    return asyncio.run(main())


def dump(url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table actually in the database (reflected, so a table
    the models do not know about is included too)."""

    async def main() -> dict[str, list[dict[str, Any]]]:
        db = Database(url)
        try:
            async with db.engine.connect() as connection:
                return await connection.run_sync(_every_row)
        finally:
            await db.close()

    return asyncio.run(main())


def user(url: str, username: str) -> Any:
    """The stored user (``authgate.domain.users.User``) or ``None``."""

    async def use(tx: Tx) -> Any:
        return await tx.users.by_username(username)

    return run(url, use)


def count_users(url: str) -> int:
    async def use(tx: Tx) -> int:
        return await tx.users.count()

    return run(url, use)


@contextmanager
def statements(server: LiveServer) -> Iterator[list[str]]:
    """Every SQL statement the server runs meanwhile for requests: the
    revocation feed's background poll of the outbox and the mail sender's of
    the mail queue (and its advisory lock) are not a request's."""
    db = server.app.state.services.db
    engines = {db.engine.sync_engine, db.read_engine.sync_engine}
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        background = ("invalidations", "mail_queue", "pg_try_advisory_xact_lock")
        if not any(name in statement for name in background):
            seen.append(statement)

    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)


def _every_row(connection: Connection) -> dict[str, list[dict[str, Any]]]:
    metadata = MetaData()
    metadata.reflect(connection)
    return {
        name: [dict(row._mapping) for row in connection.execute(select(table))]
        for name, table in metadata.tables.items()
    }
