"""Cached verifications, dropped when what they vouch for changes.

The server caches what it verified (a credential, a session, a user, the
signing-key ring), tagged with their ids. A use case that revokes, disables or
changes one names its ids; they are dropped once its transaction commits: on
this instance at once, on the others through the invalidation feed.
"""

from datetime import datetime
from typing import Protocol


class Outbox(Protocol):
    """Where the invalidations of committed transactions wait for every
    instance's feed to read them."""

    async def prune(self, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` entries written before ``before``; how many."""


class Tx(Protocol):
    def invalidate(self, *tags: str) -> None:
        """Drop cached verifications tagged with these ids after commit."""
