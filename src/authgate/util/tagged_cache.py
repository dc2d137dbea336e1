"""Values kept until they expire or an id they depend on is revoked: what a
repeat request answers from memory instead of the database. Bounded (least
recently used goes first), each entry expiring at its own time (of
``authgate.util.clock``, so tests can move it), and dropped by tag (a
session, user, credential or org id) the moment that is invalidated.

Filling races revocation: a request reads a row, a revocation commits and
evicts (finding nothing cached yet), then the request stores what it read, a
stale entry that would outlive the revocation. So a filler reads
``generation`` *before* its database read and hands it to ``put``, which
refuses the entry when anything was invalidated in between.
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Generic, TypeVar

from authgate.util import clock

V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class _Entry(Generic[V]):
    value: V
    valid_until: float
    tags: tuple[str, ...]


class TaggedCache(Generic[V]):
    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, _Entry[V]] = OrderedDict()
        self._by_tag: dict[str, set[str]] = {}
        self._lock = threading.Lock()
        #: bumped by every invalidation; see the module docstring
        self.generation = 0

    def get(self, key: str) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.valid_until <= clock.now().timestamp():
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return entry.value

    def put(
        self,
        key: str,
        value: V,
        *,
        valid_until: float,
        tags: tuple[str, ...],
        since: int,
    ) -> None:
        """Keep ``value`` until ``valid_until`` (POSIX time) or until one of
        ``tags`` is invalidated, unless something was invalidated after
        ``since`` (the ``generation`` read before ``value`` was)."""
        if self.max_entries <= 0 or valid_until <= clock.now().timestamp():
            return
        with self._lock:
            if since != self.generation:
                return
            self._entries[key] = _Entry(value, valid_until, tags)
            self._entries.move_to_end(key)
            for tag in tags:
                self._by_tag.setdefault(tag, set()).add(key)
            while len(self._entries) > self.max_entries:
                oldest = next(iter(self._entries))
                self._drop_locked(oldest)

    def invalidate(self, *tags: str) -> None:
        with self._lock:
            self.generation += 1
            for tag in tags:
                for key in self._by_tag.pop(tag, set()):
                    self._drop_locked(key)

    def clear(self) -> None:
        with self._lock:
            self.generation += 1
            self._entries.clear()
            self._by_tag.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, key: str) -> None:
        with self._lock:
            self._drop_locked(key)

    def _drop_locked(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        for tag in entry.tags:
            keys = self._by_tag.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_tag[tag]
