"""SQLite run on the event loop.

An indexed SQLite statement costs a few microseconds; sending it to a driver
thread and back, the way aiosqlite does, costs ~0.15 ms of CPU per call here,
and SQLAlchemy's asyncio adapter makes three such calls per statement (open
the cursor, execute and fetch, close). So every SQLite statement runs inline on
the loop instead (:class:`LoopDriver`), and the only thing that could make one
wait, another connection's lock, is never waited for on the loop:

- a WAL reader takes no lock;
- a writer's ``BEGIN IMMEDIATE`` fails at once when the lock is taken
  (``busy_timeout=0``) and is retried after an asyncio sleep
  (:func:`begin_immediate`), so another process's transaction (the CLI, a
  second server) delays the writer, not the loop. Writers of one process take
  turns on an asyncio lock first (``Database.transaction``), so they queue
  instead of polling;
- automatic checkpoints are off, because a checkpoint fsyncs: the
  :class:`Checkpointer` runs one on a thread every :data:`CHECKPOINT_EVERY`
  commits.

aiosqlite still opens and closes the files and sets a new connection's
isolation level, on its thread; no statement goes through it.

Kept with workers too: ``benchmarks/sqlite_driver.py`` (2,000 transactions
a round, 3 rounds, this 2-core machine otherwise idle, 2026-12-07) measured a
read transaction at 594 µs of CPU here against 2,440 µs through SQLAlchemy's
stock aiosqlite adapter, and a write transaction at 675 against 2,922 µs:
four times less, and a second worker does not change what one statement
costs. It relies on SQLAlchemy 2.1's ``util.await_`` and aiosqlite's
connection internals, hence the pins in ``pyproject.toml``.
"""

import asyncio
import collections
import logging
import sqlite3
import time
from collections.abc import Iterator, Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.util import await_

logger = logging.getLogger(__name__)

#: How long a writer waits for another process's write lock before it fails,
#: as ``busy_timeout=30000`` did.
LOCK_WAIT_SECONDS = 30.0
#: Commits between two checkpoints (a login is about four WAL pages: the WAL
#: stays around the size of SQLite's default 1000-page autocheckpoint).
CHECKPOINT_EVERY = 250


class _InlineCursor:
    """A DB-API cursor for SQLAlchemy's asyncio layer that runs each statement
    straight on the sqlite3 connection and buffers its rows, as SQLAlchemy's
    own adapter does, minus the thread round trips."""

    server_side = False
    arraysize = 1
    __slots__ = ("_adapted", "_cursor", "_rows")

    def __init__(self, adapted: "_LoopConnection") -> None:
        self._adapted = adapted
        self._cursor = adapted.sqlite.cursor()
        self._rows: collections.deque[Any] = collections.deque()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    def execute(self, operation: str, parameters: Sequence[Any] | None = None) -> None:
        try:
            self._cursor.execute(operation, () if parameters is None else parameters)
            if self._cursor.description:
                self._rows = collections.deque(self._cursor.fetchall())
        except Exception as error:
            self._adapted._handle_exception(error)

    def executemany(self, operation: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            self._cursor.executemany(operation, rows)
        except Exception as error:
            self._adapted._handle_exception(error)

    def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    def fetchmany(self, size: int | None = None) -> list[Any]:
        count = min(size or self.arraysize, len(self._rows))
        return [self._rows.popleft() for _ in range(count)]

    def fetchall(self) -> list[Any]:
        rows = list(self._rows)
        self._rows.clear()
        return rows

    def __iter__(self) -> Iterator[Any]:
        while self._rows:
            yield self._rows.popleft()

    def setinputsizes(self, *sizes: Any) -> None:
        pass

    async def _async_soft_close(self) -> None:
        # the rows are buffered already; SQLAlchemy calls this before it hands
        # a result back to async code
        pass

    def close(self) -> None:
        self._rows.clear()
        self._cursor.close()


class _LoopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    @property
    def sqlite(self) -> sqlite3.Connection:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        return connection._conn

    def cursor(self, server_side: bool = False) -> Any:  # noqa: ARG002
        # no server-side cursors: every result is in memory already
        return _InlineCursor(self)

    def commit(self) -> None:
        try:
            self.sqlite.commit()
        except Exception as error:
            self._handle_exception(error)

    def rollback(self) -> None:
        if self._connection._connection is None:  # closed
            return
        try:
            self.sqlite.rollback()
        except Exception as error:
            self._handle_exception(error)


class LoopDriver(AsyncAdapt_aiosqlite_dbapi):
    """The DB-API module SQLAlchemy's aiosqlite dialect is given
    (``create_async_engine(..., module=LoopDriver())``)."""

    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)

    def connect(self, *args: Any, **kwargs: Any) -> _LoopConnection:
        kwargs.setdefault("check_same_thread", False)  # opened on aiosqlite's thread
        connection = aiosqlite.connect(*args, **kwargs)
        connection._thread.daemon = True  # as SQLAlchemy's own connect does
        opened: Any = await_(connection)
        return _LoopConnection(self, opened)


def configure(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    """Every connection: WAL, foreign keys, no automatic checkpoint, and
    transactions started by SQLAlchemy (``begin_immediate`` for writers)."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=0")
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


def configure_reader(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    configure(dbapi_connection, record)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


def begin_immediate(connection: Connection) -> None:
    """A writer's transaction takes the write lock up front (a transaction that
    reads then writes would otherwise fail with SQLITE_BUSY when another writer
    commits in between). While another connection holds it, wait on the event
    loop, not in SQLite."""
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    delay = 0.001
    while True:
        try:
            _begin(connection, "BEGIN IMMEDIATE")
            return
        except OperationalError as exc:
            if not _locked(exc) or time.monotonic() + delay > deadline:
                raise
        await_(asyncio.sleep(delay))
        delay = min(delay * 2, 0.05)


def begin_deferred(connection: Connection) -> None:
    # A reader sees a consistent snapshot and takes no lock, so it neither
    # waits for nor delays the writer.
    _begin(connection, "BEGIN")


def _begin(connection: Connection, statement: str) -> None:
    """Straight on the sqlite3 connection: through SQLAlchemy's execution
    machinery, a ``BEGIN`` cost 0.12 ms here, a fifth of a read transaction."""
    adapted: _LoopConnection = connection.connection.dbapi_connection  # type: ignore[assignment]
    try:
        adapted.sqlite.execute(statement)
    except sqlite3.Error as exc:
        raise OperationalError(statement, None, exc) from exc


def _locked(exc: OperationalError) -> bool:
    code = getattr(exc.orig, "sqlite_errorcode", None)
    return code == sqlite3.SQLITE_BUSY or "database is locked" in str(exc.orig)


class Checkpointer:
    """Copies the WAL back into the database file every
    :data:`CHECKPOINT_EVERY` commits, on a thread. It runs while the writer
    that made the last commit still holds this process's write turn, so it
    completes, and the next writer starts the WAL over from its beginning
    instead of growing it. Another process's connections checkpoint when
    they close."""

    def __init__(self, path: str, every: int = CHECKPOINT_EVERY) -> None:
        self.path = path
        self.every = every
        self._commits = 0

    async def committed(self) -> None:
        self._commits += 1
        if self._commits < self.every:
            return
        self._commits = 0
        try:
            await asyncio.to_thread(self.checkpoint)
        except sqlite3.Error as exc:  # the next one catches up
            logger.warning("WAL checkpoint failed: %s", exc)

    def checkpoint(self) -> None:
        connection = sqlite3.connect(self.path, timeout=0)
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            connection.close()
