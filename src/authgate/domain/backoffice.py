"""The back office's read model: users with what they hold, and instance totals."""

from dataclasses import dataclass
from typing import Protocol

from authgate.domain.orgs import Org
from authgate.domain.users import User


@dataclass(frozen=True, slots=True)
class UserSummary:
    user: User
    sessions: int
    access_tokens: int
    api_keys: int


@dataclass(frozen=True, slots=True)
class OrgSummary:
    org: Org
    members: int
    api_keys: int


class BackOfficeStore(Protocol):
    async def users(self, limit: int, after_id: str | None) -> list[UserSummary]:
        """Users ordered by id, after the cursor, with counts of live sessions,
        tokens and keys."""

    async def orgs(self, limit: int, after_id: str | None) -> list[OrgSummary]:
        """Organizations ordered by id, after the cursor, with member and live
        API-key counts."""

    async def stats(self) -> dict[str, int]:
        """Instance totals: users, disabled users, live sessions, tokens, keys."""
