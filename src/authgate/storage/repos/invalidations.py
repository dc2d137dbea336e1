"""The revocation outbox, read so that no row is ever skipped.

A row's id is taken when it is inserted, but other readers see it only once
its transaction commits. On PostgreSQL a transaction holding a lower id can
commit after one holding a higher id, so "every row above the highest id read
so far" skips it forever. A reader's :class:`Position` therefore moves by
*transactions*: its ``horizon`` is the ``xmin`` of a snapshot, below which
every transaction has ended (committed, so visible, or rolled back), and each
row carries the id of the transaction that wrote it (``xact_id``). Rows at or
above the horizon are read again on the next poll, since their transactions
may still have been running; ``seen`` keeps those already handed out, so each
row is handed out once.

SQLite commits in id order (a writer holds the database's write lock from its
first statement to its commit), so there the horizon is simply the next id;
``AUTOINCREMENT`` keeps a prune from reusing ids below it.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from authgate.storage.base import table
from authgate.storage.models.invalidations import InvalidationRow as Row

_INSERT = insert(table(Row))
#: The oldest transaction still running as this statement starts: every older
#: one has ended, and a later statement sees all it committed.
_XMIN = text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")


@dataclass(frozen=True)
class Position:
    """How far a reader has read: every row whose key (PostgreSQL: its writer's
    transaction id; SQLite: its id) is below ``horizon``, and the rows ``seen``
    at or above it. The default is before the first row."""

    horizon: int = 0
    seen: frozenset[int] = frozenset()


class InvalidationRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, tags: list[str], at: datetime) -> None:
        await self._s.execute(_INSERT, {"tags": tags, "at": at})

    async def end(self) -> Position:
        """Past every row committed now: where a new reader starts."""
        _, position = await self.after(Position(await self._horizon()))
        return position

    async def after(self, position: Position) -> tuple[list[list[str]], Position]:
        """The tags of each row committed since ``position`` (in id order), and
        the position past them. The horizon is taken before the rows are read,
        so every transaction below it has ended before they are."""
        horizon = max(position.horizon, await self._horizon())
        key = self._key()
        rows = (
            await self._s.execute(
                select(Row.id, Row.tags, key)
                .where(key >= position.horizon)
                .order_by(Row.id)
            )
        ).all()
        fresh = [list(tags) for row_id, tags, _ in rows if row_id not in position.seen]
        seen = frozenset(row_id for row_id, _, k in rows if k >= horizon)
        return fresh, Position(horizon, seen)

    async def prune(self, before: datetime) -> None:
        await self._s.execute(delete(Row).where(Row.at < before))

    def _postgres(self) -> bool:
        return self._s.get_bind().dialect.name == "postgresql"

    def _key(self) -> InstrumentedAttribute[int]:
        if self._postgres():
            # NULL only in rows written before migration 0009, which no
            # comparison with a horizon selects.
            return Row.xact_id  # type: ignore[return-value]
        return Row.id

    async def _horizon(self) -> int:
        if self._postgres():
            return int(await self._s.scalar(_XMIN) or 0)
        return int(await self._s.scalar(select(func.max(Row.id))) or 0) + 1
