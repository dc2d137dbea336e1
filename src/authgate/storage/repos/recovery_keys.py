from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.storage.models.credentials import RecoveryKeyRow as Row


class RecoveryKeyRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def put(self, user_id: str, key_hash: str, at: datetime) -> None:
        await self._s.execute(delete(Row).where(Row.user_id == user_id))
        self._s.add(Row(user_id=user_id, key_hash=key_hash, created_at=at))
        await self._s.flush()

    async def consume(self, user_id: str, key_hash: str) -> bool:
        # Conditional delete: of two concurrent recoveries with one key, one wins.
        result = await self._s.execute(
            delete(Row).where(Row.user_id == user_id, Row.key_hash == key_hash)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
