from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.domain.signing_keys import SigningKey
from authgate.storage.models.signing_keys import SigningKeyRow as Row


def _value(row: Row) -> SigningKey:
    return SigningKey(
        kid=row.kid,
        alg=row.alg,
        public_jwk=row.public_jwk,
        private_encrypted=row.private_encrypted,
        created_at=row.created_at,
        retired_at=row.retired_at,
    )


class SigningKeyRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, key: SigningKey) -> None:
        self._s.add(
            Row(
                kid=key.kid,
                alg=key.alg,
                public_jwk=dict(key.public_jwk),
                private_encrypted=key.private_encrypted,
                created_at=key.created_at,
                retired_at=key.retired_at,
            )
        )
        await self._s.flush()

    async def all(self) -> list[SigningKey]:
        rows = await self._s.scalars(select(Row).order_by(Row.created_at.desc()))
        return [_value(r) for r in rows]

    async def replace_sealed(self, kid: str, private_encrypted: bytes) -> None:
        await self._s.execute(
            update(Row)
            .where(Row.kid == kid)
            .values(private_encrypted=private_encrypted)
        )

    async def retire_active(self, alg: str, at: datetime) -> list[str]:
        kids = list(
            await self._s.scalars(
                select(Row.kid).where(Row.alg == alg, Row.retired_at.is_(None))
            )
        )
        await self._s.execute(
            update(Row).where(Row.kid.in_(kids)).values(retired_at=at)
        )
        return kids
