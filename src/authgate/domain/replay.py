"""Single-use values: a value is accepted the first time and refused after.

Upstream sign-in uses it for its transient login state, so a captured
state cookie and callback URL cannot be played back, on this instance or any
other (the record is in the database, not in one process's memory). Only a
SHA-256 digest of the value is kept, and only until the value would have
expired anyway.
"""

from datetime import datetime
from typing import Protocol

from authgate.util import clock, tokens


class ReplayStore(Protocol):
    async def claim(self, digest: str, expires_at: datetime) -> bool:
        """Record the digest; ``False`` when it was recorded already (even by a
        concurrent transaction)."""

    async def purge(self, before: datetime) -> int:
        """Forget digests that expired before ``before``; how many."""


class Tx(Protocol):
    @property
    def replay(self) -> ReplayStore: ...


async def use_once(stores: Tx, value: str, expires_at: datetime) -> bool:
    """``True`` the first time ``value`` is used, ``False`` on every replay."""
    await stores.replay.purge(clock.now())
    return await stores.replay.claim(tokens.digest(value), expires_at)
