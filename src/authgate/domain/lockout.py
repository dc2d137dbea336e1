"""Account lockout after repeated failed sign-ins.

The counter lives in the database, keyed by normalised username (existing or
not, so lockout behaves the same for unknown names), and is incremented
atomically, so the limit holds across instances and concurrent attempts.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from authgate.util import clock


@dataclass(frozen=True, slots=True)
class Policy:
    max_attempts: int
    duration: timedelta


@dataclass(frozen=True, slots=True)
class Failures:
    """A username's record of recent failed sign-ins; a successful one deletes
    it, so most sign-ins find none and have nothing to clear."""

    locked_until: datetime | None

    def locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > clock.now()


class LockoutStore(Protocol):
    async def find(self, key: str) -> Failures | None: ...

    async def add_failure(self, key: str, now: datetime, window: timedelta) -> int:
        """Atomically count one failure and return the count in the current
        window; a window older than ``window`` restarts at 1."""

    async def lock(self, key: str, until: datetime) -> None:
        """Lock and restart the failure count."""

    async def clear(self, key: str) -> None: ...

    async def prune(self, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` records whose failure window started, and
        whose lock (if any) ended, before ``before``; how many."""


class Tx(Protocol):
    @property
    def lockout(self) -> LockoutStore: ...


async def record_failure(stores: Tx, policy: Policy, key: str) -> bool:
    """Count a failure; ``True`` when this failure locked the account."""
    now = clock.now()
    count = await stores.lockout.add_failure(key, now, policy.duration)
    if count >= policy.max_attempts:
        await stores.lockout.lock(key, now + policy.duration)
        return True
    return False
