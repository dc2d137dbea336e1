"""Single-use values."""

from datetime import datetime


class MemoryReplay:
    def __init__(self) -> None:
        self.rows: dict[str, datetime] = {}  #: digest → kept until

    async def claim(self, digest: str, expires_at: datetime) -> bool:
        if digest in self.rows:  # expired or not, until purged: the key decides
            return False
        self.rows[digest] = expires_at
        return True

    async def purge(self, before: datetime) -> int:
        gone = [d for d, until in self.rows.items() if until < before]
        for digest in gone:
            del self.rows[digest]
        return len(gone)
