"""Verified credentials, kept so a repeat request skips the signature check and
the database: keyed by the token's SHA-256 (never the token), each entry
expiring with its credential and dropped by tag (a session, user or
credential id) when that is revoked (``authgate.util.tagged_cache``)."""

import hashlib
from dataclasses import dataclass

from authgate.guard._principal import Principal
from authgate.util.tagged_cache import TaggedCache


@dataclass(frozen=True, slots=True)
class Verified:
    principal: Principal
    #: POSIX time (of ``authgate.util.clock``, so tests can move it) after
    #: which it must be re-checked
    valid_until: float
    #: ids whose revocation must evict this entry
    tags: tuple[str, ...] = ()


class VerificationCache(TaggedCache[Principal]):
    @staticmethod
    def key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()
