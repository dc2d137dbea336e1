from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.storage.models.oauth import RevokedTokenRow as Row


class RevocationRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, token_id: str, until: datetime) -> None:
        # One upsert: concurrent revocations of the same id both succeed, and
        # the later ``until`` wins.
        insert = (
            postgresql.insert
            if self._s.get_bind().dialect.name == "postgresql"
            else sqlite.insert
        )
        await self._s.execute(
            insert(Row)
            .values(id=token_id, until=until)
            .on_conflict_do_update(
                index_elements=[Row.id],
                set_={"until": case((Row.until < until, until), else_=Row.until)},
            )
        )

    async def any_revoked(self, ids: Iterable[str], at: datetime) -> bool:
        found = await self._s.scalar(
            select(Row.id).where(Row.id.in_(list(ids)), Row.until > at).limit(1)
        )
        return found is not None

    async def in_force(self, at: datetime) -> list[str]:
        return list(await self._s.scalars(select(Row.id).where(Row.until > at)))

    async def prune(self, before: datetime) -> int:
        result = await self._s.execute(delete(Row).where(Row.until < before))
        return int(result.rowcount)  # type: ignore[attr-defined]
