"""Sessions this process has seen alive, so that a JWT never seen before costs
its signature and claims, not a database read of the session it names.

What may change a stored session, and why a cached copy still decides right:

- **Revocation** (logout, ending one login or all of them, a password change
  or reset, disabling the account, revoke-everything, refresh-token reuse)
  writes ``revoked_at`` and names the session id to the invalidation feed
  (``domain/sessions.py`` ``revoke`` and ``end_logins``,
  ``domain/refresh_tokens.py``), which evicts the copy here at once and on
  every other instance within the feed's delay (≤ 1 s).
- **The absolute deadline** (``expires_at``) never moves: a copy past it is a
  dead session, refused with no database read.
- **The idle deadline** only moves forward: ``last_active_at`` is written by
  ``sessions.touch`` (the cookie path, a refresh), always with the time of
  the use, and no touch is published. So a copy's idle deadline is never
  later than the stored one: alive by the copy is alive (a cached copy never
  keeps a session alive longer than its idle timeout allows), while dead by
  the copy's idle deadline may only mean the copy is older than the last
  touch: the session is then read again, and refused only if the stored
  record is dead too (a cached copy never makes a live session look dead).

Only live sessions are kept, each for at most ``ttl`` seconds (the server
gives the access-token lifetime, ``AUTHGATE_JWT_EXPIRY``). That bounds what a
feed that is down can hide: a session revoked on another instance while this
one's feed fails is refused here ``ttl`` after this process last read it at
the latest, no later than a verification already cached is dropped. Filling
races revocation as in ``server/ttlmap.py``: the generation is read before the
database is.
"""

from authgate.domain import sessions
from authgate.domain.sessions import Session
from authgate.server.ttlmap import TtlMap
from authgate.storage.db import Database
from authgate.util import clock


class SessionCache:
    def __init__(self, db: Database, ttl: float) -> None:
        self._db = db
        self._sessions: TtlMap[Session] = TtlMap(ttl)

    async def alive(self, session_id: str, policy: sessions.Policy) -> Session | None:
        """The session, if it is alive now (see the module docstring)."""
        now = clock.now()
        cached = self._sessions.get(session_id)
        if cached is not None:
            if cached.alive(policy, now):
                return cached
            if now >= cached.expires_at:
                return None
        since = self._sessions.generation
        async with self._db.read() as tx:
            found = await tx.sessions.get(session_id)
        if found is None or not found.alive(policy, now):
            return None
        self._sessions.put(session_id, found, since=since)
        return found

    def invalidate(self, *tags: str) -> None:
        self._sessions.invalidate(*tags)
