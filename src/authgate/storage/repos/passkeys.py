from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.domain.passkeys import Passkey
from authgate.errors import Conflict
from authgate.storage.models.factors import PasskeyRow as Row


def _value(row: Row) -> Passkey:
    return Passkey(
        id=row.id,
        user_id=row.user_id,
        credential_id=row.credential_id,
        public_key=row.public_key,
        sign_count=row.sign_count,
        transports=tuple(row.transports.split()),
        aaguid=row.aaguid,
        backed_up=row.backed_up,
        name=row.name,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
    )


class PasskeyRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, passkey: Passkey) -> None:
        # The unique credential id decides between two concurrent registrations.
        try:
            async with self._s.begin_nested():
                self._s.add(
                    Row(
                        id=passkey.id,
                        user_id=passkey.user_id,
                        credential_id=passkey.credential_id,
                        public_key=passkey.public_key,
                        sign_count=passkey.sign_count,
                        transports=" ".join(passkey.transports),
                        aaguid=passkey.aaguid,
                        backed_up=passkey.backed_up,
                        name=passkey.name,
                        created_at=passkey.created_at,
                        last_used_at=passkey.last_used_at,
                    )
                )
        except IntegrityError as exc:
            raise Conflict("That passkey is registered already.") from exc

    async def for_user(self, user_id: str) -> list[Passkey]:
        rows = await self._s.scalars(
            select(Row).where(Row.user_id == user_id).order_by(Row.created_at, Row.id)
        )
        return [_value(r) for r in rows]

    async def by_credential_id(self, credential_id: str) -> Passkey | None:
        row = await self._s.scalar(
            select(Row).where(Row.credential_id == credential_id)
        )
        return _value(row) if row is not None else None

    async def rename(self, user_id: str, passkey_id: str, name: str) -> bool:
        result = await self._s.execute(
            update(Row)
            .where(Row.id == passkey_id, Row.user_id == user_id)
            .values(name=name)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def remove(self, user_id: str, passkey_id: str) -> bool:
        result = await self._s.execute(
            delete(Row).where(Row.id == passkey_id, Row.user_id == user_id)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def used(
        self, passkey_id: str, sign_count: int, backed_up: bool, at: datetime
    ) -> None:
        await self._s.execute(
            update(Row)
            .where(Row.id == passkey_id)
            .values(sign_count=sign_count, backed_up=backed_up, last_used_at=at)
        )
