"""Rotating refresh tokens (RFC 6749 §10.4, OAuth 2.1 §4.3.1, RFC 9700 §4.14.2).

Each use returns a new token and retires the old one. The tokens issued from
one sign-in form a family; presenting a retired token means two parties hold
it, so the whole family (and the session it belongs to) is revoked and the
reuse is audited.

A family lives at most :attr:`Lifetime.max` from its sign-in, however often it
rotates: each token expires after the idle lifetime, never past that cap, so a
stolen family cannot be kept alive forever by refreshing it.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeGuard

from authgate.domain import audit, invalidation, sessions
from authgate.domain.context import ClientInfo
from authgate.domain.refresh_families import RefreshToken, RefreshTokenStore
from authgate.domain.sessions import SessionStore
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


class Tx(audit.Tx, invalidation.Tx, Protocol):
    @property
    def refresh_tokens(self) -> RefreshTokenStore: ...
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
) -> Issued:
    """A refresh token; a new family unless ``family_id`` and
    ``family_created_at`` name the one it continues."""
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
    )
    await stores.refresh_tokens.add(token, tokens.digest(secret))
    return Issued(token=token, secret=secret)


def issued_to(
    token: RefreshToken | None, client_id: str | None
) -> TypeGuard[RefreshToken]:
    """Whether ``token`` exists and belongs to ``client_id`` (``None``: the
    first-party sign-in's)."""
    return token is not None and token.client_id == client_id


@dataclass(frozen=True, slots=True)
class Rotation:
    successor: Issued
    #: the token's user, checked active (callers need not read it again)
    user: User


async def rotate(
    stores: Tx,
    current: RefreshToken | None,
    *,
    client_id: str | None,
    prefix: str,
    lifetime: Lifetime,
    session_policy: sessions.Policy,
    client: ClientInfo,
) -> Rotation | None:
    """The successor of ``current`` (the presented token, as the caller looked
    it up by digest), or ``None`` when it cannot be used.

    ``client_id`` is the OAuth client presenting it (``None`` for the
    first-party ``/api/v1/auth/refresh``): a token issued to anyone else is
    refused before anything is written, so presenting it at the wrong endpoint
    neither uses it up nor passes for its reuse.

    Reuse revokes the family and its session; the caller must commit even when
    this returns ``None`` so that revocation sticks. A token bound to a session
    dies with it (sign-out, revocation, expiry).
    """
    now = clock.now()
    if not issued_to(current, client_id):
        return None
    if current.revoked_at is not None or current.expires_at <= now:
        return None
    user = await stores.users.get(current.user_id)
    if user is None or not user.active:
        return None
    if current.session_id is not None:
        session = await stores.sessions.get(current.session_id)
        if session is None or not session.alive(session_policy, now):
            return None
    if current.used_at is not None or not await stores.refresh_tokens.mark_used(
        current.id, now
    ):
        await _revoke_family(stores, current, client)
        return None
    if current.session_id is not None:
        await stores.sessions.touch(current.session_id, now)
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
    )
    return Rotation(successor, user)


async def _revoke_family(stores: Tx, token: RefreshToken, client: ClientInfo) -> None:
    now = clock.now()
    await stores.refresh_tokens.revoke_family(token.family_id, now)
    if token.session_id and await stores.sessions.revoke(
        token.session_id, now, "refresh_reuse"
    ):
        stores.invalidate(token.session_id)
    await audit.record(
        stores,
        audit.Action.REFRESH_REUSED,
        client,
        actor_id=token.user_id,
        target_id=token.family_id,
        details={"session_id": token.session_id, "client_id": token.client_id},
    )
