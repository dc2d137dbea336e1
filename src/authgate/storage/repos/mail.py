from sqlalchemy.ext.asyncio import AsyncSession

from authgate.domain.mail import Queued
from authgate.storage.models.mail import MailRow


class MailRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, queued: Queued) -> None:
        self._s.add(
            MailRow(
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
        await self._s.flush()
