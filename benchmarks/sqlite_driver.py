"""What ``storage/sqlite.py``'s on-loop driver saves over SQLAlchemy's stock
aiosqlite adapter, per read and per write transaction, measured side by side.

Run with ``.venv/bin/python benchmarks/sqlite_driver.py [--count N]``. Each
driver runs the same two workloads on its own copy of one database file, in
turns (A, B, A, B…), and the CPU time of this process (all its threads:
aiosqlite's included) is divided by the operations:

- ``read``: one read transaction selecting a row by primary key, as a
  verifier's cache miss does;
- ``write``: one write transaction inserting a row and updating another, as
  a sign-in's bookkeeping does.
"""

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from authgate.storage.db import create_engine

SCHEMA = (
    "CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT, hits INTEGER)",
    "INSERT INTO things (id, name, hits) VALUES (1, 'one', 0)",
)


def stock(path: Path) -> AsyncEngine:
    """SQLAlchemy's own aiosqlite adapter: every call goes to aiosqlite's thread."""
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}")

    @event.listens_for(engine.sync_engine, "connect")
    def _configure(connection: Any, _record: Any) -> None:
        connection.isolation_level = None
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def on_loop(path: Path) -> AsyncEngine:
    """Authgate's writer engine (``sqlite.LoopDriver``), from ``storage/db.py``."""
    return create_engine(f"sqlite+aiosqlite:///{path}")


async def read(engine: AsyncEngine, _i: int) -> None:
    # A session, as Authgate's transactions are: its execute allows a driver
    # that never leaves the loop (the engine's own insists on an await).
    async with AsyncSession(engine) as connection, connection.begin():
        await connection.execute(text("SELECT name FROM things WHERE id = 1"))


async def write(engine: AsyncEngine, i: int) -> None:
    async with AsyncSession(engine) as connection, connection.begin():
        await connection.execute(
            text("INSERT INTO things (name, hits) VALUES (:n, 0)"), {"n": f"t{i}"}
        )
        await connection.execute(text("UPDATE things SET hits = hits + 1 WHERE id = 1"))


async def cpu_per_op(
    engine: AsyncEngine, work: Callable[[AsyncEngine, int], Awaitable[None]], count: int
) -> float:
    """Microseconds of this process's CPU per operation."""
    for i in range(50):  # warm the pool and the statement cache
        await work(engine, i)
    started = time.process_time()
    for i in range(count):
        await work(engine, i)
    return (time.process_time() - started) / count * 1e6


async def main(count: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        template = Path(folder) / "template.db"
        engine = on_loop(template)
        async with AsyncSession(engine) as connection, connection.begin():
            for statement in SCHEMA:
                await connection.execute(text(statement))
        await engine.dispose()
        drivers = {"stock aiosqlite": stock, "on-loop (sqlite.py)": on_loop}
        engines: dict[str, AsyncEngine] = {}
        for name, make in drivers.items():
            path = Path(folder) / f"{len(engines)}.db"
            shutil.copy(template, path)
            engines[name] = make(path)
        figures: dict[tuple[str, str], list[float]] = {}
        for _ in range(rounds):
            for work in (read, write):
                for name, engine in engines.items():
                    figure = await cpu_per_op(engine, work, count)
                    figures.setdefault((work.__name__, name), []).append(figure)
        for engine in engines.values():
            await engine.dispose()
    print(f"{'workload':<8} {'driver':<22} {'CPU µs/op (median)':>20}")
    for (work_name, name), values in figures.items():
        print(f"{work_name:<8} {name:<22} {statistics.median(values):>20.0f}")
    for work_name in ("read", "write"):
        ratio = statistics.median(figures[(work_name, "stock aiosqlite")]) / (
            statistics.median(figures[(work_name, "on-loop (sqlite.py)")])
        )
        print(
            f"{work_name}: the stock adapter costs {ratio:.2f} times the on-loop driver"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    asyncio.run(main(options.count, options.rounds))
