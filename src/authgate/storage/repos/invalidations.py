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

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Subquery,
    Text,
    cast,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from authgate.storage.base import table
from authgate.storage.models.invalidations import InvalidationRow as Row

_INSERT = insert(table(Row))


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
        horizon = self._horizon()
        _, position = await self.after(
            Position(int(await self._s.scalar(select(horizon.c.horizon)) or 0))
        )
        return position

    async def after(self, position: Position) -> tuple[list[list[str]], Position]:
        """The tags of each row committed since ``position`` (in id order), and
        the position past them. One statement reads the new horizon and the
        rows, so both come from one snapshot: every transaction below that
        horizon had ended when it was taken, and its rows are among these."""
        horizon = self._horizon()
        key = self._key()
        rows = (
            await self._s.execute(
                select(horizon.c.horizon, Row.id, Row.tags, key)
                .select_from(horizon.outerjoin(Row, key >= position.horizon))
                .order_by(Row.id)
            )
        ).all()
        # Never back: a prune of every row takes SQLite's max(id) with it.
        new = max(position.horizon, int(rows[0].horizon))
        found = [(row_id, tags, k) for _, row_id, tags, k in rows if row_id is not None]
        fresh = [list(tags) for row_id, tags, _ in found if row_id not in position.seen]
        seen = frozenset(row_id for row_id, _, k in found if k >= new)
        return fresh, Position(new, seen)

    async def prune(self, before: datetime, limit: int) -> int:
        batch = select(Row.id).where(Row.at < before).limit(limit)
        result = await self._s.execute(delete(Row).where(Row.id.in_(batch)))
        return int(result.rowcount)  # type: ignore[attr-defined]

    def _postgres(self) -> bool:
        return self._s.get_bind().dialect.name == "postgresql"

    def _key(self) -> InstrumentedAttribute[int]:
        if self._postgres():
            # NULL only in rows written before migration 0009, which no
            # comparison with a horizon selects.
            return Row.xact_id  # type: ignore[return-value]
        return Row.id

    def _horizon(self) -> Subquery:
        """One row: the key below which every row has committed, if at all.
        PostgreSQL: the oldest transaction still running when the statement's
        snapshot was taken (``xmin``; xid8 casts to bigint only through text).
        SQLite: the next id, since its writers commit in id order."""
        horizon: ColumnElement[int]
        if self._postgres():
            xmin = func.pg_snapshot_xmin(func.pg_current_snapshot())
            horizon = cast(cast(xmin, Text), BigInteger)
        else:
            horizon = func.coalesce(func.max(Row.id), 0) + 1
        return select(horizon.label("horizon")).subquery("horizon")
