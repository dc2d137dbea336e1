"""Single-use links mailed to an address."""

from dataclasses import replace
from datetime import datetime

from authgate.domain.email_tokens import EmailToken, Purpose


class MemoryEmailTokens:
    def __init__(self) -> None:
        self.rows: dict[str, EmailToken] = {}  #: by digest

    async def add(self, token: EmailToken) -> None:
        self.rows[token.digest] = token

    async def discard(self, user_id: str, purpose: Purpose) -> int:
        gone = [
            t.digest
            for t in self.rows.values()
            if t.user_id == user_id and t.purpose == purpose and t.used_at is None
        ]
        for digest in gone:
            del self.rows[digest]
        return len(gone)

    async def use(
        self, digest: str, purpose: Purpose, now: datetime
    ) -> EmailToken | None:
        token = self.rows.get(digest)
        if (
            token is None
            or token.purpose != purpose
            or token.used_at is not None
            or token.expires_at <= now
        ):
            return None
        self.rows[digest] = replace(token, used_at=now)
        return self.rows[digest]

    async def purge(self, before: datetime) -> int:
        gone = [d for d, t in self.rows.items() if t.expires_at < before]
        for digest in gone:
            del self.rows[digest]
        return len(gone)
