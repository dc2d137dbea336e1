"""Values kept by id for a short while and dropped the moment the id is
invalidated: users, sessions and org memberships that a repeat request reads
without a database round trip.

Filling races revocation. A request reads a row, a revocation commits and
evicts (finding nothing cached yet), then the request stores what it read: a
stale entry that would outlive the revocation. So a filler reads
``generation`` *before* its database read and hands it to ``put``, which
refuses when any invalidation happened in between (the next request simply
reads again).
"""

import time
from typing import Generic, TypeVar

V = TypeVar("V")


class TtlMap(Generic[V]):
    def __init__(self, ttl: float, max_entries: int = 50_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        #: bumped by every invalidation; see the module docstring
        self.generation = 0
        self._entries: dict[str, tuple[float, V]] = {}

    def get(self, key: str) -> V | None:
        hit = self._entries.get(key)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def put(self, key: str, value: V, *, since: int) -> None:
        """Keep ``value`` unless something was invalidated after ``since`` (the
        ``generation`` read before ``value`` was)."""
        if since != self.generation:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + self.ttl, value)

    def invalidate(self, *keys: str) -> None:
        self.generation += 1
        for key in keys:
            self._entries.pop(key, None)
