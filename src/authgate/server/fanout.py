"""Revocation fan-out across instances (and from ``authgate admin`` commands).

Every revocation writes its ids to the ``invalidations`` outbox in the same
transaction (storage/db.py). Each instance tails that table and evicts the
named entries from its caches. A wake-up makes that immediate: PostgreSQL's
NOTIFY (sent at commit), or a Redis publish when ``AUTHGATE_REDIS_URL`` is
set; without either (SQLite), a poll every second bounds the delay. Because
the outbox is the source of truth, a lost wake-up only costs that second.

The tail misses nothing. Rows do not commit in id order on PostgreSQL, so the
feed does not stand at "the highest id read": it stands at a transaction
horizon, the ``xmin`` of a snapshot, below which every writer has ended, and
re-reads the rows of the transactions above it until the horizon passes them,
remembering those it has applied (``storage.repos.invalidations``). That is
exact, with no timing assumption; the alternative, re-reading a window of the
last T seconds, is only complete while no writer stays open longer than T, a
bound nothing here enforces. The price is a long transaction anywhere on the
server (a backup, a stuck session) holding the horizon back: the feed then
re-reads the rows committed since it began on each poll, applying none twice.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from authgate.storage.db import NOTIFY_CHANNEL, Database
from authgate.storage.repos.invalidations import Position

log = logging.getLogger("authgate")

POLL_SECONDS = 1.0
#: Outbox rows older than this are deleted (by ``server.housekeeping``): every
#: live instance has read them.
RETENTION = timedelta(minutes=10)
REDIS_CHANNEL = "authgate:invalidations"


class InvalidationFeed:
    def __init__(
        self, db: Database, apply: Callable[[list[str]], None], redis_url: str | None
    ) -> None:
        self._db = db
        self._apply = apply
        self._redis_url = redis_url
        self._redis: Any = None
        self._wake = asyncio.Event()
        self._position = Position()
        self._tasks: list[asyncio.Task[None]] = []
        self._reader: asyncio.Task[None] | None = None
        self._stopping = False
        self._listener: Any = None

    async def start(self) -> None:
        async with self._db.read() as tx:
            self._position = await tx.invalidations.end()
        if self._redis_url:
            import redis.asyncio

            self._redis = redis.asyncio.from_url(self._redis_url)
            self._tasks.append(asyncio.create_task(self._redis_wakeups()))
        elif self._db.url.startswith("postgresql"):
            await self._listen_postgres()
        self._reader = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Let a read in flight finish rather than cancel it: an asyncpg
        query cancelled half-way can leave its connection unable to close,
        and the engine's disposal then waits on it for ever."""
        self._stopping = True
        self._wake.set()
        if self._reader is not None:
            await self._reader
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._listener is not None:
            await self._listener.close()
        if self._redis is not None:
            with contextlib.suppress(Exception):
                await self._redis.aclose()

    async def published(self) -> None:
        """After a local commit with invalidations: wake the other instances
        (PostgreSQL needs nothing here; NOTIFY went out with the commit)."""
        if self._redis is not None:
            try:
                await self._redis.publish(REDIS_CHANNEL, b"1")
            except Exception:
                log.warning("could not publish an invalidation wake-up to Redis")

    async def catch_up(self) -> None:
        """Apply every outbox row committed since the last call (since
        ``start``; before it, every row). Should applying one fail, they are
        all applied again next time: eviction is idempotent."""
        async with self._db.read() as tx:
            rows, position = await tx.invalidations.after(self._position)
        for tags in rows:
            self._apply(tags)
        self._position = position

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
            self._wake.clear()
            if self._stopping:
                return
            try:
                await self.catch_up()
            except Exception:
                log.exception("invalidation feed failed; retrying")

    async def _listen_postgres(self) -> None:
        connection = await self._db.engine.connect()
        raw = await connection.get_raw_connection()
        await raw.driver_connection.add_listener(  # type: ignore[union-attr]
            NOTIFY_CHANNEL, lambda *_args: self._wake.set()
        )
        self._listener = connection

    async def _redis_wakeups(self) -> None:
        """Subscribe for as long as the app runs; a Redis outage only slows
        the fan-out to the poll's pace until it comes back."""
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(REDIS_CHANNEL)
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        self._wake.set()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("lost the Redis subscription; retrying in a second")
                await asyncio.sleep(1.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
