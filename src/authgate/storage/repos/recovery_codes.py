from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.domain.recovery_codes import RecoveryCode
from authgate.storage.models.factors import RecoveryCodeRow as Row


class RecoveryCodeRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def replace(self, user_id: str, codes: list[RecoveryCode]) -> None:
        await self.delete_all(user_id)
        self._s.add_all(
            Row(
                id=code.id,
                user_id=code.user_id,
                code_hash=code.code_hash,
                created_at=code.created_at,
                used_at=code.used_at,
            )
            for code in codes
        )
        await self._s.flush()

    async def use(self, user_id: str, code_hash: str, at: datetime) -> bool:
        # Conditional update: of two concurrent uses of one code, one wins.
        result = await self._s.execute(
            update(Row)
            .where(
                Row.user_id == user_id,
                Row.code_hash == code_hash,
                Row.used_at.is_(None),
            )
            .values(used_at=at)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def remaining(self, user_id: str) -> int:
        found = await self._s.scalar(
            select(func.count())
            .select_from(Row)
            .where(Row.user_id == user_id, Row.used_at.is_(None))
        )
        return int(found or 0)

    async def delete_all(self, user_id: str) -> int:
        result = await self._s.execute(delete(Row).where(Row.user_id == user_id))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
