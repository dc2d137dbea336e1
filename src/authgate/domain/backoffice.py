"""The back office's read model: users with what they hold, and instance totals."""

from dataclasses import dataclass
from typing import Protocol

from authgate.domain.users import User


@dataclass(frozen=True, slots=True)
class UserSummary:
    user: User
    sessions: int
    access_tokens: int
    api_keys: int


class BackOfficeStore(Protocol):
    async def users(self, limit: int, after_id: str | None) -> list[UserSummary]:
        """Users ordered by id, after the cursor, with counts of live sessions,
        tokens and keys."""

    async def stats(self) -> dict[str, int]:
        """Instance totals: users, disabled users, live sessions, tokens, keys."""
