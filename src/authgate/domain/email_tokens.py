"""Single-use links mailed to an address: verify it, or reset a password.

A link proves that whoever follows it reads the mail of ``email``, so a token
is bound to one person, one address and one purpose, and is good once:
using it is one conditional update (unused, unexpired, that purpose), so of
two racing uses one wins. Only the SHA-256 digest of the token is stored,
and a lookup goes by that digest (nothing to time). Issuing a new one of a
purpose for a person drops the older unused ones, so only the latest link
mailed works; expired rows are pruned by ``domain.housekeeping``.
"""

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from authgate.util import clock, tokens

#: the token kind: ``{prefix}_evt_…``, told apart from every other secret
KIND = "evt"


class Purpose(enum.StrEnum):
    VERIFY = "verify"
    RESET = "reset"


@dataclass(frozen=True, slots=True)
class EmailToken:
    digest: str
    purpose: Purpose
    user_id: str
    email: str  #: the address the link was mailed to
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


class EmailTokenStore(Protocol):
    async def add(self, token: EmailToken) -> None: ...

    async def discard(self, user_id: str, purpose: Purpose) -> int:
        """Delete the person's unused tokens of ``purpose``; how many."""

    async def use(
        self, digest: str, purpose: Purpose, now: datetime
    ) -> EmailToken | None:
        """Mark the token used, if it is of ``purpose``, unused and unexpired
        at ``now`` (one conditional update: of two racing uses, one wins);
        the token as it was, or ``None``."""

    async def purge(self, before: datetime) -> int:
        """Delete tokens that expired before ``before``; how many."""


class Tx(Protocol):
    @property
    def email_tokens(self) -> EmailTokenStore: ...


async def issue(
    stores: Tx,
    purpose: Purpose,
    user_id: str,
    email: str,
    ttl: timedelta,
    *,
    prefix: str,
) -> str:
    """A new token for a link to ``email``; the person's older unused ones of
    this purpose stop working."""
    secret = tokens.mint(prefix, KIND)
    now = clock.now()
    await stores.email_tokens.discard(user_id, purpose)
    await stores.email_tokens.add(
        EmailToken(
            digest=tokens.digest(secret),
            purpose=purpose,
            user_id=user_id,
            email=email,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    return secret


def well_formed(secret: str) -> bool:
    """Whether ``secret`` can be a link's token at all (shape and checksum,
    no database): a mangled or made-up link is refused before any lookup."""
    parsed = tokens.parse(secret)
    return parsed is not None and parsed.kind == KIND


async def use(stores: Tx, purpose: Purpose, secret: str) -> EmailToken | None:
    """The token, now used up; ``None`` when it is malformed, unknown, used,
    expired, superseded or of another purpose (one answer for all)."""
    if not well_formed(secret):
        return None
    return await stores.email_tokens.use(tokens.digest(secret), purpose, clock.now())
