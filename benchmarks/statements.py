"""What one PostgreSQL statement costs this process: SQLAlchemy Core on
asyncpg (the way ``authgate.storage`` runs them) against asyncpg called
directly, and what a transaction's ``BEGIN``/``COMMIT`` add.

Run with ``./dev python -m benchmarks.statements [--count N]``. It starts a
throw-away cluster as the tests do (``tests/support/postgres.py``), makes one
table, then times ``--count`` executions of the same statement on one
connection, one after another: the primary-key SELECT and the single-row
UPDATE the grants run. ``cpu µs`` is this process's CPU per statement (the
server's is not counted), ``wall µs`` the round trip as the caller sees it.
The decision it informs is written in ``authgate/storage/db.py``.
"""

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg
from sqlalchemy import Column, DateTime, MetaData, String, Table, bindparam, select
from sqlalchemy import update as sql_update
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from tests.support.postgres import Cluster

_ROWS = Table(
    "rows",
    MetaData(),
    Column("id", String, primary_key=True),
    Column("used_at", DateTime(timezone=True)),
)
_SELECT = select(_ROWS).where(_ROWS.c.id == bindparam("id"))
_UPDATE = (
    sql_update(_ROWS)
    .where(_ROWS.c.id == bindparam("key"))
    .values(used_at=bindparam("at"))
)
_SQL_SELECT = "SELECT id, used_at FROM rows WHERE id = $1"
_SQL_UPDATE = "UPDATE rows SET used_at = $1 WHERE id = $2"

Step = Callable[[], Awaitable[object]]


async def timed(label: str, step: Step, count: int) -> None:
    for _ in range(count // 10):  # warm: caches filled, statements prepared
        await step()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(count):
        await step()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"{label:<52} {cpu / count * 1e6:8.1f} {wall / count * 1e6:8.1f}")


async def measure(url: str, count: int) -> None:
    dsn = url.replace("postgresql+asyncpg", "postgresql")
    raw = await asyncpg.connect(dsn)
    await raw.execute(
        "CREATE TABLE rows (id text PRIMARY KEY, used_at timestamptz);"
        "INSERT INTO rows VALUES ('a', NULL)"
    )
    engine = create_async_engine(url, pool_size=1)
    now = datetime.now(UTC)
    print(f"{'one connection, one after another':<52} {'cpu µs':>8} {'wall µs':>8}")
    try:
        select_stmt = await raw.prepare(_SQL_SELECT)
        update_stmt = await raw.prepare(_SQL_UPDATE)
        await timed(
            "asyncpg, prepared: SELECT", lambda: select_stmt.fetchrow("a"), count
        )
        await timed(
            "asyncpg, prepared: UPDATE",
            lambda: update_stmt.fetch(now, "a"),
            count,
        )
        await timed(
            "asyncpg, its statement cache: SELECT",
            lambda: raw.fetchrow(_SQL_SELECT, "a"),
            count,
        )

        async def raw_transaction() -> None:
            async with raw.transaction():
                await select_stmt.fetchrow("a")

        await timed("asyncpg: BEGIN, SELECT, COMMIT", raw_transaction, count)

        async with engine.connect() as conn:
            await timed(
                "SQLAlchemy Core, AsyncConnection: SELECT",
                lambda: conn.execute(_SELECT, {"id": "a"}),
                count,
            )
            await timed(
                "SQLAlchemy Core, AsyncConnection: UPDATE",
                lambda: conn.execute(_UPDATE, {"key": "a", "at": now}),
                count,
            )
            await conn.commit()
        async with AsyncSession(engine) as session:
            await timed(
                "SQLAlchemy Core, AsyncSession (storage's way): SELECT",
                lambda: session.execute(_SELECT, {"id": "a"}),
                count,
            )
            await session.commit()

        async def sqlalchemy_transaction() -> None:
            async with AsyncSession(engine) as session, session.begin():
                await session.execute(_SELECT, {"id": "a"})

        await timed(
            "SQLAlchemy AsyncSession: BEGIN, SELECT, COMMIT",
            sqlalchemy_transaction,
            count,
        )

        async def connection_transaction() -> None:
            async with engine.begin() as conn:
                await conn.execute(_SELECT, {"id": "a"})

        await timed(
            "SQLAlchemy AsyncConnection: BEGIN, SELECT, COMMIT",
            connection_transaction,
            count,
        )
    finally:
        await engine.dispose()
        await raw.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=5000)
    options = parser.parse_args()
    cluster = Cluster()
    if cluster.start() is None:
        raise SystemExit("PostgreSQL is not installed (no initdb)")
    try:
        database = "bench_statements"
        cluster.execute(f"CREATE DATABASE {database}")
        asyncio.run(measure(cluster.database(database), options.count))
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
