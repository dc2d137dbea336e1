"""Rotating refresh tokens (RFC 6749 §10.4, OAuth 2.1 §4.3.1, RFC 9700 §4.14.2).

Each use returns a new token and retires the old one. The tokens issued from
one sign-in form a family; presenting a retired token means two parties hold
it, so the whole family (and the session it belongs to) is revoked and the
reuse is audited.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from authgate.domain import audit, sessions
from authgate.domain.context import ClientInfo
from authgate.util import clock, tokens
from authgate.util.ids import new_id

if TYPE_CHECKING:
    from authgate.domain.stores import Stores
    from authgate.domain.users import User


@dataclass(frozen=True, slots=True)
class RefreshToken:
    id: str
    family_id: str
    user_id: str
    created_at: datetime
    expires_at: datetime
    session_id: str | None = None
    client_id: str | None = None
    scope: str = ""
    audience: str | None = None
    used_at: datetime | None = None
    revoked_at: datetime | None = None


class RefreshTokenStore(Protocol):
    async def add(self, token: RefreshToken, token_hash: str) -> None: ...

    async def by_hash(self, token_hash: str) -> RefreshToken | None: ...

    async def mark_used(self, token_id: str, at: datetime) -> bool:
        """Atomically retire an unused token; ``False`` when it was already used."""

    async def revoke_family(self, family_id: str, at: datetime) -> int: ...

    async def revoke_for_client(self, client_id: str, at: datetime) -> list[str]:
        """Revoke every live token issued to an OAuth client; the families hit."""


@dataclass(frozen=True, slots=True)
class Issued:
    token: RefreshToken
    secret: str  #: the ``ag_rt_…`` value, shown only now


async def issue(
    stores: "Stores",
    *,
    prefix: str,
    ttl: timedelta,
    user_id: str,
    family_id: str | None = None,
    session_id: str | None = None,
    client_id: str | None = None,
    scope: str = "",
    audience: str | None = None,
) -> Issued:
    now = clock.now()
    secret = tokens.mint(prefix, "rt")
    token_id = new_id("rt")
    token = RefreshToken(
        id=token_id,
        family_id=family_id or token_id,
        user_id=user_id,
        created_at=now,
        expires_at=now + ttl,
        session_id=session_id,
        client_id=client_id,
        scope=scope,
        audience=audience,
    )
    await stores.refresh_tokens.add(token, tokens.digest(secret))
    return Issued(token=token, secret=secret)


@dataclass(frozen=True, slots=True)
class Rotation:
    successor: Issued
    #: the token's user, checked active (callers need not read it again)
    user: "User"


async def rotate(
    stores: "Stores",
    current: RefreshToken | None,
    *,
    prefix: str,
    ttl: timedelta,
    session_policy: sessions.Policy,
    client: ClientInfo,
) -> Rotation | None:
    """The successor of ``current`` (the presented token, as the caller looked
    it up by digest), or ``None`` when it cannot be used.

    Reuse revokes the family and its session; the caller must commit even when
    this returns ``None`` so that revocation sticks. A token bound to a session
    dies with it (sign-out, revocation, expiry).
    """
    now = clock.now()
    if current is None or current.revoked_at is not None or current.expires_at <= now:
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
        ttl=ttl,
        user_id=current.user_id,
        family_id=current.family_id,
        session_id=current.session_id,
        client_id=current.client_id,
        scope=current.scope,
        audience=current.audience,
    )
    return Rotation(successor, user)


async def _revoke_family(
    stores: "Stores", token: RefreshToken, client: ClientInfo
) -> None:
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
