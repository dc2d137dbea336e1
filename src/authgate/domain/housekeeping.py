"""Housekeeping: rows that no longer matter are deleted, so no table grows
without bound.

A row is deleted once nothing it could still decide remains, plus a margin
(:data:`GRACE`) so that a value presented a little late is still recognised
for what it was rather than being unknown. The rules, by what the rows hold
(the store, where its name differs):

================== =============================================== ==============
rows               kept while it matters, until                    by
================== =============================================== ==============
refresh_tokens     its family's max lifetime has passed since the  this job
                   sign-in or grant + GRACE (revoked and used
                   tokens too: every rule that reads them, reuse
                   detection included, is over by then)
sessions           its absolute expiry + GRACE (revoked ones too;  this job
                   its first-party refresh tokens go with it, and
                   are refused once it has ended anyway)
authorization_     expiry + ``grants.CODE_RETENTION``, so a late   each new code,
codes              replay still revokes what the code issued       and this job
device_codes       expiry + ``grants.CODE_RETENTION``              each new code,
                                                                   and this job
used_values        the value's own expiry: it is refused as        each use, and
(``replay``)       expired after that                              this job
revocations        the last access token it refuses has expired    each revocation,
                                                                   and this job
email_tokens       the link's own expiry (24 h to verify an        each new link
                   address): refused as expired after that         of a purpose
                                                                   for a person
                                                                   (its unused
                                                                   ones), and
                                                                   this job
login_failures     its failure window and any lock have ended:     this job
(``lockout``)      a stale record counts as none
invalidations      the feed's retention: every live instance has   this job
(outbox)           read it
audit_events       ``AUTHGATE_AUDIT_RETENTION`` (default: kept)    this job
(``audit``)
oauth_clients      dynamically registered ones (RFC 7591: anyone   this job
(``clients``)      may register): until GRACE after registration
                   when no consent and no unrevoked refresh token
                   names them (abandoned, or every grant revoked)
mail_queue         ``mail.RETENTION`` after it was sent or given   this job
(``mail``)         up (its sealed content is dropped at once);
                   until then, what went out, for operators
================== =============================================== ==============

Users, orgs, memberships, other clients, consents, credentials, invites,
recovery keys, second factors and signing keys are kept: each exists because
a person or an operator made it, and goes when they remove it.

Stores pruned at every write stay small, so one statement empties them; the
others are deleted :data:`BATCH` rows at a time, one transaction per batch,
so a backlog never holds a long write lock (SQLite's is the whole file).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from authgate.domain import (
    clients,
    email_tokens,
    grants,
    lockout,
    mail,
    replay,
    sessions,
)
from authgate.domain.invalidation import Outbox
from authgate.util import clock

#: Rows deleted per store and transaction.
BATCH = 1000
#: How long a row outlives the last moment it decided anything.
GRACE = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Policy:
    refresh_max_lifetime: timedelta
    lockout_window: timedelta
    #: how long the invalidation feed may need an outbox row
    outbox_retention: timedelta
    #: audit events older than this are deleted; ``None`` keeps them forever
    audit_retention: timedelta | None = None


class Tx(sessions.Tx, lockout.Tx, replay.Tx, mail.Tx, email_tokens.Tx, Protocol):
    @property
    def invalidations(self) -> Outbox: ...

    @property
    def clients(self) -> clients.ClientStore:
        """The whole store (``grants.Tx`` names only the read it makes)."""


@dataclass(frozen=True, slots=True)
class Pruned:
    #: rows deleted, by what they held (the names of the tables, mostly)
    counts: dict[str, int]
    #: a batched store was full: run another batch
    more: bool


async def prune(stores: Tx, policy: Policy, *, limit: int = BATCH) -> Pruned:
    """One batch, in the caller's transaction (see the module docstring)."""
    now = clock.now()
    batched: dict[str, int] = {
        # Before sessions: a session's deletion would take its tokens along
        # uncounted.
        "refresh_tokens": await stores.refresh_tokens.prune(
            now - policy.refresh_max_lifetime - GRACE, limit
        ),
        "sessions": await stores.sessions.prune(now - GRACE, limit),
        "login_failures": await stores.lockout.prune(
            now - policy.lockout_window, limit
        ),
        "invalidations": await stores.invalidations.prune(
            now - policy.outbox_retention, limit
        ),
        "oauth_clients": await _abandoned_clients(stores, now, limit),
        "mail_queue": await stores.mail.prune(now - mail.RETENTION, limit),
    }
    if policy.audit_retention is not None:
        batched["audit_events"] = await stores.audit.prune(
            now - policy.audit_retention, limit
        )
    counts = batched | await _small(stores, now)
    return Pruned(counts, more=any(n >= limit for n in batched.values()))


async def _abandoned_clients(stores: Tx, now: datetime, limit: int) -> int:
    """Pruned clients are named to the caches: one that authenticated
    recently may be known to an instance, and must not outlive its row."""
    pruned = await stores.clients.prune_abandoned(now - GRACE, limit)
    if pruned:
        stores.invalidate(*pruned)
    return len(pruned)


async def _small(stores: Tx, now: datetime) -> dict[str, int]:
    """The stores their own writes keep small (see the module docstring)."""
    codes_before = now - grants.CODE_RETENTION
    return {
        "authorization_codes": await stores.authorization_codes.prune(codes_before),
        "device_codes": await stores.device_codes.prune(codes_before),
        "used_values": await stores.replay.purge(now),
        "revocations": await stores.revocations.prune(now),
        "email_tokens": await stores.email_tokens.purge(now),
    }
