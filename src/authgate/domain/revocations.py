"""Revoked JWT access tokens (RFC 7009 §2, RFC 6749 §4.1.2).

An access token is a self-contained JWT, so revoking one means remembering its
``jti``, or the id of everything it came from: the grant (``gid``, an
authorization code's or device code's id, which is also its refresh family's
id) or the client. The server's own verifier looks a token's ids up here once,
on a cache miss, and revocation evicts the cached verification by the same ids
(the guard's cache tags), so a revoked token is refused from the next request.
Since :func:`revoke` names the ids to the invalidation feed, a process that read
:func:`in_force` once and follows the feed knows every id that may be revoked,
and asks here only about those.

A row is kept only as long as a token it could refuse might live.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from authgate.domain import invalidation
from authgate.util import clock


class RevocationStore(Protocol):
    async def add(self, token_id: str, until: datetime) -> None:
        """Record ``token_id`` as revoked until ``until`` (extending an earlier
        record, never shortening it)."""

    async def any_revoked(self, ids: Iterable[str], at: datetime) -> bool:
        """Whether any of ``ids`` is recorded as revoked at ``at``."""

    async def in_force(self, at: datetime) -> list[str]:
        """Every id recorded as revoked at ``at``."""

    async def prune(self, before: datetime) -> int:
        """Forget records that ended before ``before``; how many."""


class Tx(invalidation.Tx, Protocol):
    @property
    def revocations(self) -> RevocationStore: ...


async def revoke(stores: Tx, *ids: str, until: datetime) -> None:
    """Refuse every access token naming one of ``ids`` (as ``jti``, ``gid`` or
    ``client_id``) until ``until``, and evict their cached verifications."""
    await stores.revocations.prune(clock.now())
    for token_id in dict.fromkeys(i for i in ids if i):
        await stores.revocations.add(token_id, until)
    stores.invalidate(*ids)


async def is_revoked(stores: Tx, ids: Iterable[str]) -> bool:
    wanted = [i for i in ids if i]
    return bool(wanted) and await stores.revocations.any_revoked(wanted, clock.now())


async def in_force(stores: Tx) -> list[str]:
    """Every id refused now: where a process that learns of later revocations
    from the invalidation feed starts."""
    return await stores.revocations.in_force(clock.now())
