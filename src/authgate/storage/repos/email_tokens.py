from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.domain.email_tokens import EmailToken, Purpose
from authgate.storage.models.mail import EmailTokenRow


def _value(row: EmailTokenRow) -> EmailToken:
    return EmailToken(
        digest=row.digest,
        purpose=Purpose(row.purpose),
        user_id=row.user_id,
        email=row.email,
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
    )


class EmailTokenRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, token: EmailToken) -> None:
        self._s.add(
            EmailTokenRow(
                digest=token.digest,
                purpose=token.purpose.value,
                user_id=token.user_id,
                email=token.email,
                created_at=token.created_at,
                expires_at=token.expires_at,
                used_at=token.used_at,
            )
        )
        await self._s.flush()

    async def discard(self, user_id: str, purpose: Purpose) -> int:
        result = await self._s.execute(
            delete(EmailTokenRow).where(
                EmailTokenRow.user_id == user_id,
                EmailTokenRow.purpose == purpose.value,
                EmailTokenRow.used_at.is_(None),
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def use(
        self, digest: str, purpose: Purpose, now: datetime
    ) -> EmailToken | None:
        # The WHERE decides: a racing transaction's update waits for this one
        # to commit, then finds used_at set and matches nothing.
        result = await self._s.execute(
            update(EmailTokenRow)
            .where(
                EmailTokenRow.digest == digest,
                EmailTokenRow.purpose == purpose.value,
                EmailTokenRow.used_at.is_(None),
                EmailTokenRow.expires_at > now,
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            return None
        row = await self._s.scalar(
            select(EmailTokenRow).where(EmailTokenRow.digest == digest)
        )
        return None if row is None else _value(row)

    async def purge(self, before: datetime) -> int:
        result = await self._s.execute(
            delete(EmailTokenRow).where(EmailTokenRow.expires_at < before)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
