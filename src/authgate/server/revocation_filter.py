"""Whether an access token is revoked, answered without the database when the
answer is surely "no".

An OAuth client's JWT can be revoked by its ``jti``, its grant (``gid``) or
its client (``domain/revocations.py``); a token never seen before names ids
no cache can hold, so asking the database is the only per-token answer. But a
revocation writes its ids to the invalidation outbox in the same transaction
as the revocation row, and every process applies the outbox through its feed
(``server/fanout.py``), which misses no row. So a process that knows

- every id in force when it started listening (read *after* its feed took its
  starting position: a revocation committed later comes through the feed), and
- every id invalidated since (by this process, or through the feed),

knows a superset of the ids revoked now. An id outside both is certainly not
revoked and costs no database read; an id inside them is asked about in the
database (an invalidated id is often a session or a user, not a revocation).
The answer is exact up to the feed's own delay (≤ 1 s, as for every cache).

The second set grows with every invalidation, so once it holds
``max_seen`` ids the first is read again: ids seen before that read began are
forgotten (the read finds those still in force), those seen during it kept.

Until :meth:`RevocationFilter.load` has run (the feed not started: an app run
without its lifespan), every check asks the database. A feed that is down
(its polls failing) stops adding ids: a token revoked on another instance is
then accepted here until it expires, within one access-token lifetime
(``AUTHGATE_JWT_EXPIRY``), as a verification already cached would be.
"""

import asyncio

from authgate.domain import revocations
from authgate.storage.db import Database


class RevocationFilter:
    def __init__(self, db: Database, max_seen: int = 10_000) -> None:
        self._db = db
        self.max_seen = max_seen
        self._loaded = False
        #: ids in force at the last load
        self._in_force: frozenset[str] = frozenset()
        #: ids invalidated since the last load began
        self._seen: set[str] = set()
        #: ids invalidated before the load under way began (kept until it ends)
        self._before_load: set[str] = set()
        self._loading = asyncio.Lock()

    async def load(self) -> None:
        """Read the ids in force now. Call it after the invalidation feed has
        started, never before (see the module docstring)."""
        async with self._loading:
            self._before_load, self._seen = self._seen | self._before_load, set()
            try:
                async with self._db.read() as tx:
                    in_force = await revocations.in_force(tx)
            except BaseException:
                self._seen |= self._before_load
                self._before_load = set()
                raise
            self._in_force = frozenset(in_force)
            self._before_load = set()
            self._loaded = True

    def saw(self, tags: list[str]) -> None:
        """Ids invalidated here or on another instance (``Services.evict``)."""
        self._seen.update(tags)

    async def is_revoked(self, ids: list[str]) -> bool:
        if (
            self._loaded
            and len(self._seen) >= self.max_seen
            and not self._loading.locked()
        ):
            await self.load()
        if self._loaded and not any(
            i in self._in_force or i in self._seen or i in self._before_load
            for i in ids
        ):
            return False
        async with self._db.read() as tx:
            return await revocations.is_revoked(tx, ids)
