"""The invalidation outbox."""

from collections.abc import Iterable
from datetime import datetime

from authgate.util import clock


class MemoryOutbox:
    def __init__(self) -> None:
        #: (written at, tags), oldest first, as the feed reads them
        self.rows: list[tuple[datetime, list[str]]] = []

    def add(self, tags: Iterable[str]) -> None:
        self.rows.append((clock.now(), list(tags)))

    async def prune(self, before: datetime, limit: int) -> int:
        gone = [i for i, (at, _tags) in enumerate(self.rows) if at < before][:limit]
        self.rows = [row for i, row in enumerate(self.rows) if i not in set(gone)]
        return len(gone)
