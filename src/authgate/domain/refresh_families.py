"""Refresh tokens as stored: every token issued, in families.

The tokens issued from one sign-in, or from one OAuth grant (whose id the
family takes), form a family. Rotation (``refresh_tokens``) adds to a family;
ending logins (``sessions``) and revoking grants (``grants``) revoke whole
families, which is why the record sits below all three.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from authgate.domain.assurance import Authentication


@dataclass(frozen=True, slots=True)
class RefreshToken:
    id: str
    family_id: str
    user_id: str
    created_at: datetime
    expires_at: datetime
    #: when the first token of the family was issued (the sign-in or grant)
    family_created_at: datetime
    session_id: str | None = None
    client_id: str | None = None
    scope: str = ""
    audience: str | None = None
    used_at: datetime | None = None
    revoked_at: datetime | None = None
    #: how the person authenticated when the family began (its first-party
    #: tokens read their session's instead, which a step-up renews)
    authentication: Authentication | None = None


class RefreshTokenStore(Protocol):
    async def add(self, token: RefreshToken, token_hash: str) -> None: ...

    async def by_hash(self, token_hash: str) -> RefreshToken | None: ...

    async def mark_used(self, token_id: str, at: datetime) -> bool:
        """Atomically retire an unused token; ``False`` when it was already used."""

    async def revoke_family(self, family_id: str, at: datetime) -> int: ...

    async def revoke_for_client(self, client_id: str, at: datetime) -> list[str]:
        """Revoke every live token issued to an OAuth client; the families hit."""

    async def revoke_for_user(
        self,
        user_id: str,
        at: datetime,
        *,
        client_id: str | None = None,
        keep_session: str | None = None,
    ) -> list[str]:
        """Revoke every live token of the user (only those issued to
        ``client_id`` when given; none bound to session ``keep_session``); the
        OAuth families hit (first-party ones die with their sessions)."""

    async def live_heads(self, user_id: str, at: datetime) -> list[RefreshToken]:
        """The unused, unrevoked, unexpired token of each of the user's OAuth
        families (one per family), newest first."""

    async def prune(self, family_started_before: datetime, limit: int) -> int:
        """Delete up to ``limit`` tokens of families started before
        ``family_started_before`` (used, revoked or not); how many."""
