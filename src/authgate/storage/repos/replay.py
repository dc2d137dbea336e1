from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.storage.models.replay import UsedValueRow


class ReplayRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def claim(self, digest: str, expires_at: datetime) -> bool:
        # The primary key decides: of two concurrent claims, the second waits
        # for the first to commit and then fails on the duplicate.
        try:
            async with self._s.begin_nested():
                self._s.add(UsedValueRow(digest=digest, expires_at=expires_at))
        except IntegrityError:
            return False
        return True

    async def purge(self, before: datetime) -> int:
        result = await self._s.execute(
            delete(UsedValueRow).where(UsedValueRow.expires_at < before)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
