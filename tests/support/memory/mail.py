"""Queued mail."""

from authgate.domain.mail import Queued


class MemoryMail:
    def __init__(self) -> None:
        self.rows: list[Queued] = []

    async def add(self, queued: Queued) -> None:
        self.rows.append(queued)
