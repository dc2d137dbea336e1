from datetime import datetime, timedelta

from sqlalchemy import bindparam, case, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.domain.lockout import Failures
from authgate.storage.base import table
from authgate.storage.models.users import LoginFailureRow as Row

_FAILURES = table(Row)
#: Core, built once: every sign-in runs it
_FIND = select(_FAILURES.c.locked_until).where(
    _FAILURES.c.username == bindparam("username")
)


class LockoutRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def find(self, key: str) -> Failures | None:
        found = (await self._s.execute(_FIND, {"username": key})).first()
        return Failures(locked_until=found.locked_until) if found else None

    async def add_failure(self, key: str, now: datetime, window: timedelta) -> int:
        # One upsert statement: concurrent failures on any instance each count.
        insert = (
            postgresql.insert
            if self._s.get_bind().dialect.name == "postgresql"
            else sqlite.insert
        )
        stale = Row.window_started_at <= now - window
        statement = (
            insert(Row)
            .values(username=key, count=1, window_started_at=now)
            .on_conflict_do_update(
                index_elements=[Row.username],
                set_={
                    "count": case((stale, 1), else_=Row.count + 1),
                    "window_started_at": case(
                        (stale, now), else_=Row.window_started_at
                    ),
                },
            )
            .returning(Row.count)
        )
        return int((await self._s.execute(statement)).scalar_one())

    async def lock(self, key: str, until: datetime) -> None:
        await self._s.execute(
            update(Row).where(Row.username == key).values(locked_until=until, count=0)
        )

    async def clear(self, key: str) -> None:
        await self._s.execute(delete(Row).where(Row.username == key))

    async def prune(self, before: datetime, limit: int) -> int:
        batch = (
            select(Row.username)
            .where(
                Row.window_started_at < before,
                or_(Row.locked_until.is_(None), Row.locked_until < before),
            )
            .limit(limit)
        )
        result = await self._s.execute(delete(Row).where(Row.username.in_(batch)))
        return int(result.rowcount)  # type: ignore[attr-defined]
