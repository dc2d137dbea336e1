"""Verified credentials, kept so a repeat request skips the signature check and
the database. Keyed by the token's SHA-256 (never the token), bounded (least
recently used goes first), each entry expiring with its credential, and dropped
by tag (a session, user or credential id) when that is revoked."""

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

from authgate.guard._principal import Principal
from authgate.util import clock


@dataclass(frozen=True, slots=True)
class Verified:
    principal: Principal
    #: POSIX time (of ``authgate.util.clock``, so tests can move it) after
    #: which it must be re-checked
    valid_until: float
    #: ids whose revocation must evict this entry
    tags: tuple[str, ...] = ()


class VerificationCache:
    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, Verified] = OrderedDict()
        self._by_tag: dict[str, set[str]] = {}
        self._lock = threading.Lock()
        #: Bumped by every invalidation. A verification that read the database
        #: may have raced a revocation that evicted nothing (the entry was not
        #: cached yet): callers read this before verifying and ``put`` refuses
        #: the entry if anything was invalidated since.
        self.generation = 0

    @staticmethod
    def key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def get(self, key: str) -> Principal | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.valid_until <= clock.now().timestamp():
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return entry.principal

    def put(self, key: str, verified: Verified, *, since: int) -> None:
        if self.max_entries <= 0 or verified.valid_until <= clock.now().timestamp():
            return
        with self._lock:
            if since != self.generation:
                return
            self._entries[key] = verified
            self._entries.move_to_end(key)
            for tag in verified.tags:
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
