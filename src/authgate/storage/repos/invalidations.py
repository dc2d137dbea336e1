from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.storage.models.invalidations import InvalidationRow as Row


class InvalidationRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, tags: list[str], at: datetime) -> None:
        self._s.add(Row(tags=tags, at=at))
        await self._s.flush()

    async def last_id(self) -> int:
        return int(await self._s.scalar(select(func.max(Row.id))) or 0)

    async def since(
        self, after_id: int, limit: int = 1000
    ) -> list[tuple[int, list[str]]]:
        rows = await self._s.execute(
            select(Row.id, Row.tags)
            .where(Row.id > after_id)
            .order_by(Row.id)
            .limit(limit)
        )
        return [(int(i), list(t)) for i, t in rows]

    async def prune(self, before: datetime, limit: int) -> int:
        batch = select(Row.id).where(Row.at < before).limit(limit)
        result = await self._s.execute(delete(Row).where(Row.id.in_(batch)))
        return int(result.rowcount)  # type: ignore[attr-defined]
