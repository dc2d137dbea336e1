"""Server-side sessions: what a browser cookie and a login's refresh token stand for.

A session is alive while it is not revoked, younger than the absolute lifetime
and used within the idle timeout; every use slides the idle deadline forward,
so a person at work is never signed out mid-task.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from authgate.domain import audit
from authgate.domain.context import ClientInfo
from authgate.errors import NotFound
from authgate.util import clock, tokens
from authgate.util.ids import new_id
from authgate.util.useragent import device_label

if TYPE_CHECKING:
    from authgate.domain.stores import Stores

#: ``last_active_at`` is written at most this often per session, so a busy
#: session costs no database write per request.
TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Policy:
    idle_timeout: timedelta
    max_lifetime: timedelta


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    user_id: str
    created_at: datetime
    last_active_at: datetime
    expires_at: datetime
    ip: str | None
    user_agent: str | None
    device: str
    revoked_at: datetime | None = None

    def alive(self, policy: Policy, now: datetime) -> bool:
        return (
            self.revoked_at is None
            and now < self.expires_at
            and now < self.last_active_at + policy.idle_timeout
        )

    def deadline(self, policy: Policy) -> datetime:
        """When the session ends if it is not used again."""
        return min(self.expires_at, self.last_active_at + policy.idle_timeout)


class SessionStore(Protocol):
    async def add(self, session: Session, token_hash: str) -> None: ...

    async def get(self, session_id: str) -> Session | None: ...

    async def by_token_hash(self, token_hash: str) -> Session | None: ...

    async def list_for_user(self, user_id: str) -> list[Session]:
        """Sessions not revoked, newest activity first."""

    async def touch(self, session_id: str, at: datetime) -> None: ...

    async def revoke(self, session_id: str, at: datetime, reason: str) -> bool:
        """``False`` when it was already revoked or does not exist."""

    async def revoke_all_for_user(
        self, user_id: str, at: datetime, reason: str
    ) -> list[str]:
        """Revoke every live session of the user; the ids revoked."""


@dataclass(frozen=True, slots=True)
class Started:
    session: Session
    token: str  #: the opaque ``ag_ses_…`` cookie value, shown only now


async def start(
    stores: "Stores",
    policy: Policy,
    *,
    user_id: str,
    prefix: str,
    client: ClientInfo,
    method: str | None = None,
) -> Started:
    """A new session. ``method`` says how the person signed in (``oidc``,
    ``workos``, ``dev``; password sign-ins leave it out) for the audit log."""
    now = clock.now()
    token = tokens.mint(prefix, "ses")
    session = Session(
        id=new_id("ses"),
        user_id=user_id,
        created_at=now,
        last_active_at=now,
        expires_at=now + policy.max_lifetime,
        ip=client.ip,
        user_agent=(client.user_agent or "")[:512] or None,
        device=device_label(client.user_agent),
    )
    await stores.sessions.add(session, tokens.digest(token))
    await audit.record(
        stores,
        audit.Action.LOGIN_SUCCEEDED,
        client,
        actor_id=user_id,
        target_id=session.id,
        details={"method": method} if method else None,
    )
    return Started(session=session, token=token)


async def resolve(stores: "Stores", policy: Policy, token: str) -> Session | None:
    """The live session a cookie token names. Read-only, so a flood of unknown
    tokens never takes the database's write lock; :func:`touch` slides the
    idle deadline when :func:`due_for_touch` says so."""
    session = await stores.sessions.by_token_hash(tokens.digest(token))
    if session is None or not session.alive(policy, clock.now()):
        return None
    return session


def due_for_touch(session: Session) -> bool:
    """The idle deadline is written at most once a :data:`TOUCH_INTERVAL`."""
    return clock.now() - session.last_active_at >= TOUCH_INTERVAL


async def touch(stores: "Stores", session: Session) -> None:
    await stores.sessions.touch(session.id, clock.now())


async def revoke(
    stores: "Stores",
    session_id: str,
    *,
    user_id: str,
    reason: str,
    client: ClientInfo,
) -> None:
    """End one of the user's own sessions; another user's id is simply not found."""
    session = await stores.sessions.get(session_id)
    if session is None or session.user_id != user_id:
        raise NotFound("No such session.")
    if await stores.sessions.revoke(session_id, clock.now(), reason):
        stores.invalidate(session_id)
        await audit.record(
            stores,
            audit.Action.LOGOUT if reason == "logout" else audit.Action.SESSION_REVOKED,
            client,
            actor_id=user_id,
            target_id=session_id,
            details={"reason": reason},
        )


async def revoke_all(
    stores: "Stores",
    user_id: str,
    *,
    reason: str,
    actor_id: str,
    client: ClientInfo,
) -> list[str]:
    revoked = await stores.sessions.revoke_all_for_user(user_id, clock.now(), reason)
    stores.invalidate(*revoked)
    if revoked:
        await audit.record(
            stores,
            audit.Action.SESSION_REVOKED,
            client,
            actor_id=actor_id,
            target_id=user_id,
            details={"reason": reason, "sessions": revoked},
        )
    return revoked


async def live_for_user(
    stores: "Stores", policy: Policy, user_id: str
) -> list[Session]:
    """The user's sessions still alive now, newest activity first."""
    now = clock.now()
    found = await stores.sessions.list_for_user(user_id)
    return [s for s in found if s.alive(policy, now)]


async def revoke_others(
    stores: "Stores",
    user_id: str,
    *,
    keep: str | None,
    reason: str,
    client: ClientInfo,
) -> list[str]:
    """End every session of the user but ``keep`` (the one asking), with one
    audit entry; their refresh tokens die with them. The ids ended."""
    now = clock.now()
    ended = [
        s.id
        for s in await stores.sessions.list_for_user(user_id)
        if s.id != keep and await stores.sessions.revoke(s.id, now, reason)
    ]
    stores.invalidate(*ended)
    if ended:
        await audit.record(
            stores,
            audit.Action.SESSION_REVOKED,
            client,
            actor_id=user_id,
            target_id=user_id,
            details={"reason": reason, "sessions": ended},
        )
    return ended


async def sign_out(
    stores: "Stores",
    *,
    session_id: str | None,
    session_token: str | None,
    refresh_token: str | None,
    client: ClientInfo,
) -> None:
    """End the session named by whichever of these the caller holds (in this
    order). Unknown or already-ended sessions are not an error: signing out is
    idempotent."""
    session = await stores.sessions.get(session_id) if session_id else None
    if session is None and session_token:
        session = await stores.sessions.by_token_hash(tokens.digest(session_token))
    if session is None and refresh_token:
        token = await stores.refresh_tokens.by_hash(tokens.digest(refresh_token))
        session = (
            await stores.sessions.get(token.session_id)
            if token and token.session_id
            else None
        )
    if session is not None and session.revoked_at is None:
        await revoke(
            stores, session.id, user_id=session.user_id, reason="logout", client=client
        )
