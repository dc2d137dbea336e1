"""The mail queue (``domain.mail``)."""

from datetime import datetime

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.domain.mail import Queued
from authgate.storage.models.mail import MailRow as Row

_DUE = (Row.sent_at.is_(None), Row.failed_at.is_(None))


class MailRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session
        #: whether this transaction queued mail (``Database.on_mail_queued``)
        self.queued = False

    async def add(self, queued: Queued) -> None:
        self.queued = True
        await self._s.execute(
            insert(Row).values(
                id=queued.id,
                template=queued.template,
                sealed=queued.sealed,
                created_at=queued.created_at,
                next_attempt_at=queued.next_attempt_at,
                attempts=queued.attempts,
                sent_at=queued.sent_at,
                failed_at=queued.failed_at,
                last_error=queued.last_error,
            )
        )

    async def sealed_values(self) -> list[tuple[str, bytes]]:
        rows = await self._s.execute(
            select(Row.id, Row.sealed).where(*_DUE, Row.sealed.is_not(None))
        )
        return [(message_id, sealed) for message_id, sealed in rows if sealed]

    async def replace_sealed(self, message_id: str, sealed: bytes) -> None:
        await self._s.execute(
            update(Row).where(Row.id == message_id).values(sealed=sealed)
        )

    async def pending(self, now: datetime) -> bool:
        due = select(Row.id).where(*_DUE, Row.next_attempt_at <= now).limit(1)
        return (await self._s.scalar(due)) is not None

    async def claim(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[Queued]:
        rows = (
            await self._s.execute(
                select(Row)
                .where(*_DUE, Row.next_attempt_at <= now)
                .order_by(Row.next_attempt_at, Row.created_at, Row.id)
                .limit(limit)
            )
        ).scalars()
        found = [_value(row) for row in rows]
        if not found:
            return []
        # The update asks again whether each row is due: on PostgreSQL a
        # concurrent claim (were the sender's advisory lock ever skipped)
        # waits for the first one's row locks, then finds them leased.
        taken = set(
            (
                await self._s.execute(
                    update(Row)
                    .where(
                        Row.id.in_([queued.id for queued in found]),
                        *_DUE,
                        Row.next_attempt_at <= now,
                    )
                    .values(next_attempt_at=lease_until)
                    .returning(Row.id)
                )
            ).scalars()
        )
        return [queued for queued in found if queued.id in taken]

    async def sent(self, message_id: str, at: datetime) -> None:
        await self._s.execute(
            update(Row).where(Row.id == message_id).values(sent_at=at, sealed=None)
        )

    async def retry(
        self, message_id: str, attempts: int, next_at: datetime, error: str
    ) -> None:
        await self._s.execute(
            update(Row)
            .where(Row.id == message_id, *_DUE)
            .values(attempts=attempts, next_attempt_at=next_at, last_error=error)
        )

    async def failed(
        self, message_id: str, attempts: int, at: datetime, error: str
    ) -> None:
        await self._s.execute(
            update(Row)
            .where(Row.id == message_id, *_DUE)
            .values(attempts=attempts, failed_at=at, last_error=error, sealed=None)
        )

    async def prune(self, before: datetime, limit: int) -> int:
        batch = (
            select(Row.id)
            .where(or_(Row.sent_at < before, Row.failed_at < before))
            .limit(limit)
        )
        result = await self._s.execute(delete(Row).where(Row.id.in_(batch)))
        return int(result.rowcount)  # type: ignore[attr-defined]


def _value(row: Row) -> Queued:
    return Queued(
        id=row.id,
        template=row.template,
        sealed=row.sealed,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        attempts=row.attempts,
        sent_at=row.sent_at,
        failed_at=row.failed_at,
        last_error=row.last_error,
    )
