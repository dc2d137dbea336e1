"""The housekeeping job: ``domain.housekeeping`` every
``AUTHGATE_HOUSEKEEPING_INTERVAL``, one instance at a time; ``authgate admin
prune`` runs the same :func:`run` once. Each round then queues the notices of
personal access tokens about to expire (:func:`remind`), under the same lock.

Every instance (every worker) runs the timer, and each batch is a transaction
that first takes :data:`LOCK_KEY` without waiting:

- PostgreSQL: ``pg_try_advisory_xact_lock``. While one instance holds it, any
  other skips its round (``run`` returns ``None``), so two instances never
  prune at once, and none queues behind another's deletes.
- SQLite: the database is one file, but several processes may share it
  (workers, a second ``serve``, the CLI). No lock is needed: every batch is a
  write transaction, which holds the file's write lock from its start
  (``BEGIN IMMEDIATE``), so the processes take turns batch by batch; whoever
  comes second finds nothing left to delete, and a delete done twice is done
  once.

The first round runs one interval after start, so a restart (or N workers
starting together) adds nothing to start-up.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta

from authgate.config import Settings
from authgate.domain import housekeeping, notices
from authgate.server import fanout
from authgate.storage.db import Database

log = logging.getLogger("authgate")

#: The advisory lock's key (PostgreSQL's are 64-bit integers): "agprune".
LOCK_KEY = int.from_bytes(b"agprune", "big")

Counts = dict[str, int]


def policy(settings: Settings) -> housekeeping.Policy:
    return housekeeping.Policy(
        refresh_max_lifetime=settings.refresh_token_max_lifetime,
        lockout_window=timedelta(minutes=settings.lockout_duration_minutes),
        outbox_retention=fanout.RETENTION,
        audit_retention=settings.audit_retention,
    )


async def run(
    db: Database, rules: housekeeping.Policy, *, limit: int = housekeeping.BATCH
) -> Counts | None:
    """Prune, batch after batch, until nothing that stopped mattering is left;
    the rows deleted by store, or ``None`` when another instance is pruning."""
    totals: Counts = {}
    while True:
        async with db.transaction() as tx:
            if not await tx.exclusive(LOCK_KEY):
                # Mid-way, another instance took over between two batches.
                return totals or None
            batch = await housekeeping.prune(tx, rules, limit=limit)
        for store, count in batch.counts.items():
            totals[store] = totals.get(store, 0) + count
        if not batch.more:
            return totals


async def remind(
    db: Database, notify: notices.Policy, *, limit: int = housekeeping.BATCH
) -> int | None:
    """Tell the owners of personal access tokens expiring soon
    (``domain.notices.expiring``), batch after batch, one instance at a time
    like :func:`run`; how many were told of, or ``None`` when another
    instance is at it."""
    total = 0
    while True:
        async with db.transaction() as tx:
            if not await tx.exclusive(LOCK_KEY):
                return total or None
            found = await notices.expiring(tx, notify, limit=limit)
        total += found
        if found < limit:
            return total


class Housekeeper:
    """The timer, started and stopped with the app."""

    def __init__(
        self,
        db: Database,
        rules: housekeeping.Policy,
        interval: timedelta,
        on_pruned: Callable[[Counts], None],
        notify: notices.Policy,
    ) -> None:
        self._db = db
        self._rules = rules
        self._notify = notify
        self._interval = interval.total_seconds()
        self._on_pruned = on_pruned
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                counts = await run(self._db, self._rules)
                await remind(self._db, self._notify)
            except Exception:
                log.exception("housekeeping failed; trying again next interval")
                continue
            if counts is None:
                log.debug("housekeeping skipped: another instance is at it")
                continue
            self._on_pruned(counts)
            if any(counts.values()):
                log.info(
                    "housekeeping deleted %s",
                    ", ".join(f"{n} {store}" for store, n in counts.items() if n),
                )
