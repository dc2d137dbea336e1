"""Rotating refresh tokens (RFC 6749 §6 and §10.4, OAuth 2.1 §4.3.1,
RFC 9700 §4.14.2).

Each use returns a new token and retires the old one. The tokens issued from
one sign-in or grant form a family; presenting a retired token means two
parties hold it, so the whole family (its session, and an OAuth grant's access
tokens) is revoked and the reuse is audited.

A family lives at most :attr:`Lifetime.max` from its sign-in, however often it
rotates: each token expires after the idle lifetime, never past that cap, so a
stolen family cannot be kept alive forever by refreshing it.

Both refresh endpoints (``/oauth/token`` and ``/api/v1/auth/refresh``) use a
token the same way, in one transaction, the checks in this order::

    present(secret, client_id)
      ├─ Refused(UNKNOWN | WRONG_CLIENT)                   nothing written
      └─ Presented ─► rotate
                        ├─ Refused(REVOKED | EXPIRED | USER_INACTIVE
                        │          | SESSION_GONE)         nothing written
                        ├─ Refused(REUSED)                 family revoked, audited
                        └─ Rotated                         retired, successor issued

The binding to the client comes first (RFC 6749 §6), so a token sent by
another client, or to the other endpoint, is neither used up nor taken for
reuse: whoever holds someone else's token cannot revoke their family with it.
Between the two steps the OAuth grant checks the scope and audience asked for
against the token's, so a refused narrowing leaves the token usable.
Refusals are returned, not raised: the caller commits, so a reuse's
revocation sticks, and then answers with its own error.
"""

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from authgate.domain import audit, grants, invalidation, sessions
from authgate.domain.assurance import Authentication
from authgate.domain.context import Peer
from authgate.domain.refresh_families import RefreshToken
from authgate.domain.sessions import Session, SessionStore
from authgate.domain.users import User, UserStore
from authgate.util import clock, tokens
from authgate.util.ids import new_id


@dataclass(frozen=True, slots=True)
class Lifetime:
    idle: timedelta  #: a token unused this long expires
    max: timedelta  #: no token of a family outlives its start by more

    def expiry(self, family_started_at: datetime, now: datetime) -> datetime:
        return min(now + self.idle, family_started_at + self.max)


@dataclass(frozen=True, slots=True)
class Issued:
    token: RefreshToken
    secret: str  #: the ``ag_rt_…`` value, shown only now


class Tx(grants.Tx, invalidation.Tx, Protocol):
    @property
    def sessions(self) -> SessionStore: ...
    @property
    def users(self) -> UserStore: ...


async def issue(
    stores: Tx,
    *,
    prefix: str,
    lifetime: Lifetime,
    user_id: str,
    family_id: str | None = None,
    family_created_at: datetime | None = None,
    session_id: str | None = None,
    client_id: str | None = None,
    scope: str = "",
    audience: str | None = None,
    authentication: Authentication | None = None,
) -> Issued:
    """A refresh token; a new family unless ``family_id`` and
    ``family_created_at`` name the one it continues. ``authentication``: how
    the person authenticated when the family began (an OAuth grant's tokens,
    ID tokens included, keep saying it: OIDC Core §12.2)."""
    now = clock.now()
    secret = tokens.mint(prefix, "rt")
    token_id = new_id("rt")
    started = family_created_at or now
    token = RefreshToken(
        id=token_id,
        family_id=family_id or token_id,
        user_id=user_id,
        created_at=now,
        expires_at=lifetime.expiry(started, now),
        family_created_at=started,
        session_id=session_id,
        client_id=client_id,
        scope=scope,
        audience=audience,
        authentication=authentication,
    )
    await stores.refresh_tokens.add(token, tokens.digest(secret))
    return Issued(token=token, secret=secret)


class Refusal(enum.Enum):
    """Why a presented refresh token gave no successor."""

    UNKNOWN = "unknown"  #: no token has this secret
    #: issued to another OAuth client, or to an OAuth client while presented to
    #: the first-party endpoint, or the other way round
    WRONG_CLIENT = "wrong_client"
    REVOKED = "revoked"  #: sign-out, a withdrawn grant, an earlier reuse
    EXPIRED = "expired"
    USER_INACTIVE = "user_inactive"  #: its user is disabled or gone
    SESSION_GONE = "session_gone"  #: the session it is bound to has ended
    #: already rotated out: the family was revoked just now, and audited
    REUSED = "reused"


@dataclass(frozen=True, slots=True)
class Refused:
    reason: Refusal


@dataclass(frozen=True, slots=True)
class Presented:
    """A token found by its secret and issued to the client presenting it.

    :func:`rotate` takes nothing else, so every caller checks the binding
    first."""

    token: RefreshToken


@dataclass(frozen=True, slots=True)
class Rotated:
    successor: Issued
    #: the token's user, checked active (callers need not read it again)
    user: User
    #: the live session a first-party token is bound to
    session: Session | None = None


async def present(
    stores: Tx, secret: str, *, client_id: str | None
) -> Presented | Refused:
    """The token whose secret ``client_id`` presents (``None``: the
    first-party ``/api/v1/auth/refresh``), if it was issued to that client.
    Reads only."""
    token = await stores.refresh_tokens.by_hash(tokens.digest(secret))
    if token is None:
        return Refused(Refusal.UNKNOWN)
    if token.client_id != client_id:
        return Refused(Refusal.WRONG_CLIENT)
    return Presented(token)


async def rotate(
    stores: Tx,
    presented: Presented,
    *,
    prefix: str,
    lifetime: Lifetime,
    session_policy: sessions.Policy,
    access_ttl: timedelta,
    peer: Peer,
) -> Rotated | Refused:
    """Retire the presented token and issue its successor, or say why not.

    A token already retired is a reuse (RFC 9700 §4.14.2): its family is
    revoked here, with its session and, for an OAuth family, every access
    token of the grant (remembered ``access_ttl``, the longest one lives).
    The retirement is atomic, so of two concurrent uses of one token exactly
    one is rotated and the other is refused as a reuse."""
    current = presented.token
    now = clock.now()
    if current.revoked_at is not None:
        return Refused(Refusal.REVOKED)
    if current.expires_at <= now:
        return Refused(Refusal.EXPIRED)
    user = await stores.users.get(current.user_id)
    if user is None or not user.active:
        return Refused(Refusal.USER_INACTIVE)
    session = None
    if current.session_id is not None:
        session = await stores.sessions.get(current.session_id)
        if session is None or not session.alive(session_policy, now):
            return Refused(Refusal.SESSION_GONE)
    elif current.client_id is None:
        # A first-party token is only ever issued with its session.
        return Refused(Refusal.SESSION_GONE)
    if current.used_at is not None or not await stores.refresh_tokens.mark_used(
        current.id, now
    ):
        await _revoke_family(stores, current, access_ttl=access_ttl, peer=peer)
        return Refused(Refusal.REUSED)
    if session is not None and sessions.due_for_touch(session):
        # As for a cookie, the idle deadline is written once a minute at most.
        await sessions.touch(stores, session)
    successor = await issue(
        stores,
        prefix=prefix,
        lifetime=lifetime,
        user_id=current.user_id,
        family_id=current.family_id,
        family_created_at=current.family_created_at,
        session_id=current.session_id,
        client_id=current.client_id,
        scope=current.scope,
        audience=current.audience,
        authentication=current.authentication,
    )
    return Rotated(successor, user, session)


async def _revoke_family(
    stores: Tx,
    token: RefreshToken,
    *,
    access_ttl: timedelta,
    peer: Peer,
) -> None:
    now = clock.now()
    if token.client_id is None:
        # First-party access tokens name the session (``sid``), revoked below.
        await stores.refresh_tokens.revoke_family(token.family_id, now)
    else:
        # An OAuth family is its grant: the access tokens name it (``gid``).
        await grants.revoke_grant(stores, token.family_id, access_ttl=access_ttl)
    if token.session_id and await stores.sessions.revoke(
        token.session_id, now, "refresh_reuse"
    ):
        stores.invalidate(token.session_id)
    await audit.record(
        stores,
        audit.Action.REFRESH_REUSED,
        peer,
        actor_id=token.user_id,
        target_id=token.family_id,
        details={"session_id": token.session_id, "client_id": token.client_id},
    )
