"""Queued mail."""

from dataclasses import replace
from datetime import datetime
from typing import Any

from authgate.domain.mail import Queued


class MemoryMail:
    def __init__(self) -> None:
        self.rows: list[Queued] = []

    async def add(self, queued: Queued) -> None:
        self.rows.append(queued)

    async def sealed_values(self) -> list[tuple[str, bytes]]:
        return [
            (row.id, row.sealed)
            for row in self.rows
            if row.sealed and row.sent_at is None and row.failed_at is None
        ]

    async def replace_sealed(self, message_id: str, sealed: bytes) -> None:
        self.rows = [
            replace(row, sealed=sealed) if row.id == message_id else row
            for row in self.rows
        ]

    async def pending(self, now: datetime) -> bool:
        return any(
            row.sent_at is None and row.failed_at is None and row.next_attempt_at <= now
            for row in self.rows
        )

    async def claim(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[Queued]:
        due = sorted(
            (
                row
                for row in self.rows
                if row.sent_at is None
                and row.failed_at is None
                and row.next_attempt_at <= now
            ),
            key=lambda row: (row.next_attempt_at, row.created_at, row.id),
        )[:limit]
        for row in due:
            self._update(row.id, next_attempt_at=lease_until)
        return due

    async def sent(self, message_id: str, at: datetime) -> None:
        self._update(message_id, sent_at=at, sealed=None)

    async def retry(
        self, message_id: str, attempts: int, next_at: datetime, error: str
    ) -> None:
        self._update(
            message_id, attempts=attempts, next_attempt_at=next_at, last_error=error
        )

    async def failed(
        self, message_id: str, attempts: int, at: datetime, error: str
    ) -> None:
        self._update(
            message_id, attempts=attempts, failed_at=at, last_error=error, sealed=None
        )

    async def prune(self, before: datetime, limit: int) -> int:
        def done(row: Queued) -> datetime | None:
            return row.sent_at or row.failed_at

        gone = {
            row.id for row in self.rows if (at := done(row)) is not None and at < before
        }
        gone = set(sorted(gone)[:limit])
        self.rows = [row for row in self.rows if row.id not in gone]
        return len(gone)

    def _update(self, message_id: str, **changes: Any) -> None:
        self.rows = [
            replace(row, **changes) if row.id == message_id else row
            for row in self.rows
        ]
