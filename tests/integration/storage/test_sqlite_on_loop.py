"""SQLite statements run on the event loop (``storage.sqlite``): what keeps
that safe. A wait for another connection's lock happens on the loop (an
asyncio sleep), never inside SQLite; this process's writers take turns instead
of polling; checkpoints, which fsync, run on a thread."""

import asyncio
import shutil
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from authgate.domain.users import User
from authgate.storage import sqlite
from authgate.storage.db import Database
from tests.integration.storage.factories import add_user, user

pytestmark = pytest.mark.anyio


@pytest.fixture
def path(tmp_path: Path, sqlite_template: Path) -> Path:
    target = tmp_path / "authgate.db"
    shutil.copy(sqlite_template, target)
    return target


@pytest.fixture
async def db(path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        yield database
    finally:
        await database.close()


class Ticker:
    """The longest the event loop went without running a 5 ms timer."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.005)
            now = time.monotonic()
            self.longest = max(self.longest, now - last)
            last = now

    async def __aenter__(self) -> "Ticker":
        self._task = asyncio.create_task(self._tick())
        await asyncio.sleep(0.02)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def test_a_writer_waits_for_another_process_lock_without_blocking_the_loop(
    db: Database, path: Path
) -> None:
    await add_user(db)  # the pool holds an open connection
    other = sqlite3.connect(path, isolation_level=None)  # as the CLI would
    other.execute("BEGIN IMMEDIATE")
    # Released by the loop itself: if a writer waited inside SQLite, on the
    # loop, this would never run and the write would time out.
    asyncio.get_running_loop().call_later(0.4, other.execute, "COMMIT")
    async with Ticker() as ticker:
        started = time.monotonic()
        alice = await add_user(db, username="alice")
        waited = time.monotonic() - started
    other.close()
    assert waited >= 0.3  # it did wait for the lock
    assert ticker.longest < 0.15  # and the loop ran meanwhile
    async with db.read() as tx:
        assert await tx.users.get(alice.id) == alice


async def test_a_lock_held_too_long_is_an_error_not_a_hang(
    db: Database, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite, "LOCK_WAIT_SECONDS", 0.2)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        with pytest.raises(OperationalError, match="locked"):
            await add_user(db, username="alice")
        assert 0.1 < time.monotonic() - started < 2
    finally:
        other.execute("ROLLBACK")
        other.close()
    await add_user(db, username="alice")  # nothing was left half-open


async def test_writers_of_one_process_take_turns_instead_of_polling(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    refusals: list[OperationalError] = []
    locked = sqlite._locked

    def counted(exc: OperationalError) -> bool:
        refusals.append(exc)
        return locked(exc)

    monkeypatch.setattr(sqlite, "_locked", counted)

    async def slow_write() -> User:
        # a transaction that awaits something real (a thread, the network)
        # lets the loop start the others meanwhile
        value = user()
        async with db.transaction() as tx:
            await tx.users.add(value)
            await asyncio.sleep(0.01)
        return value

    users = await asyncio.gather(*(slow_write() for _ in range(10)))
    async with db.read() as tx:
        assert await tx.users.count() == 10
        assert all([await tx.users.get(u.id) == u for u in users])
    assert refusals == []  # no BEGIN IMMEDIATE ever found the lock taken


def _size(file: Path) -> int:
    return file.stat().st_size


async def test_checkpoints_run_off_the_loop_and_keep_the_wal_small(
    db: Database, path: Path
) -> None:
    wal = Path(f"{path}-wal")

    async def write(n: int) -> None:
        for _ in range(n):
            await add_user(db)

    checkpointer = db._checkpointer
    assert checkpointer is not None
    checkpointer.every = 20
    await write(400)
    bounded = _size(wal)
    checkpointer.every = 10**9  # never: what the WAL would be without it
    await write(400)
    unbounded = _size(wal)
    assert bounded * 4 < unbounded
