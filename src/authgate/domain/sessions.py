"""Server-side sessions: what a browser cookie and a login's refresh token stand for.

A session is alive while it is not revoked, younger than the absolute lifetime
and used within the idle timeout; every use slides the idle deadline forward,
so a person at work is never signed out mid-task.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from authgate.domain import audit, grants
from authgate.domain.assurance import Authentication
from authgate.domain.context import Peer
from authgate.errors import NotFound
from authgate.util import clock, tokens
from authgate.util.ids import new_id
from authgate.util.useragent import device_label

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
    #: when the person last proved who they are in this session (sign-in or
    #: step-up); ``None`` for sessions begun before Authgate kept it
    authenticated_at: datetime | None = None
    amr: tuple[str, ...] = ()  #: how (``domain.assurance``)

    @property
    def auth_time(self) -> datetime:
        """OIDC's ``auth_time``: the last authentication, else the sign-in."""
        return self.authenticated_at or self.created_at

    @property
    def authentication(self) -> Authentication:
        return Authentication(self.auth_time, self.amr)

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

    async def history(self, user_id: str, limit: int) -> list[Session]:
        """Up to ``limit`` of the user's sessions still on record, ended or
        not, newest first: where they signed in from lately."""

    async def touch(self, session_id: str, at: datetime) -> None: ...

    async def reauthenticate(
        self, session_id: str, at: datetime, amr: tuple[str, ...]
    ) -> None:
        """Record a new authentication in the session (a step-up)."""

    async def revoke(self, session_id: str, at: datetime, reason: str) -> bool:
        """``False`` when it was already revoked or does not exist."""

    async def revoke_all_for_user(
        self, user_id: str, at: datetime, reason: str, *, keep: str | None = None
    ) -> list[str]:
        """Revoke every live session of the user but ``keep``; the ids revoked."""

    async def prune(self, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` sessions (revoked or not) that expired before
        ``before``, with their refresh tokens; how many sessions."""


class Tx(grants.Tx, Protocol):
    @property
    def sessions(self) -> SessionStore: ...


@dataclass(frozen=True, slots=True)
class Started:
    session: Session
    token: str  #: the opaque ``ag_ses_…`` cookie value, shown only now


async def start(
    stores: Tx,
    policy: Policy,
    *,
    user_id: str,
    prefix: str,
    peer: Peer,
    amr: tuple[str, ...],
    method: str | None = None,
) -> Started:
    """A new session. ``amr`` says how the person authenticated
    (``domain.assurance``); ``method`` which door they came through (``oidc``,
    ``workos``, ``dev``; password sign-ins leave it out) for the audit log."""
    now = clock.now()
    token = tokens.mint(prefix, "ses")
    session = Session(
        id=new_id("ses"),
        user_id=user_id,
        created_at=now,
        last_active_at=now,
        expires_at=now + policy.max_lifetime,
        ip=peer.ip,
        user_agent=(peer.user_agent or "")[:512] or None,
        device=device_label(peer.user_agent),
        authenticated_at=now,
        amr=amr,
    )
    await stores.sessions.add(session, tokens.digest(token))
    await audit.record(
        stores,
        audit.Action.LOGIN_SUCCEEDED,
        peer,
        actor_id=user_id,
        target_id=session.id,
        details={"method": method} if method else None,
    )
    return Started(session=session, token=token)


async def resolve(stores: Tx, policy: Policy, token: str) -> Session | None:
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


async def touch(stores: Tx, session: Session) -> None:
    await stores.sessions.touch(session.id, clock.now())


async def reauthenticate(stores: Tx, session: Session, amr: tuple[str, ...]) -> None:
    """The person proved who they are again in ``session`` (step-up, RFC 9470):
    tokens and checks read the new time and methods from now on. Cached
    verifications of the session are dropped, so the next request sees it."""
    await stores.sessions.reauthenticate(session.id, clock.now(), amr)
    stores.invalidate(session.id)


async def revoke(
    stores: Tx,
    session_id: str,
    *,
    user_id: str,
    reason: str,
    peer: Peer,
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
            peer,
            actor_id=user_id,
            target_id=session_id,
            details={"reason": reason},
        )


async def live_for_user(stores: Tx, policy: Policy, user_id: str) -> list[Session]:
    """The user's sessions still alive now, newest activity first."""
    now = clock.now()
    found = await stores.sessions.list_for_user(user_id)
    return [s for s in found if s.alive(policy, now)]


@dataclass(frozen=True, slots=True)
class Ended:
    sessions: list[str]
    #: OAuth grants (refresh families) revoked: the CLI's, an MCP client's, any
    #: app's; the first-party families of the sessions ended go with them
    grants: list[str]


async def end_logins(
    stores: Tx,
    user_id: str,
    *,
    keep: str | None = None,
    reason: str,
    actor_id: str | None,
    access_ttl: timedelta,
    peer: Peer,
) -> Ended:
    """End every login of the person but the session ``keep`` (the one asking,
    if it stays): sessions, every refresh family, and the access tokens those
    families issued, which are refused from the next request on (their grant ids
    are recorded as revoked for an access-token lifetime, as a deleted
    client's are). One audit entry, in the caller's transaction.

    Password changes and resets, ``revoke-all`` and disabling an account all
    come here, so none of them leaves an OAuth client's refresh token rotating
    on; and nothing revoked comes back when the account is enabled again."""
    ended = await stores.sessions.revoke_all_for_user(
        user_id, clock.now(), reason, keep=keep
    )
    stores.invalidate(*ended)
    families = await grants.revoke_user_grants(
        stores, user_id, keep_session=keep, access_ttl=access_ttl
    )
    if ended or families:
        await audit.record(
            stores,
            audit.Action.SESSION_REVOKED,
            peer,
            actor_id=actor_id or user_id,
            target_id=user_id,
            details={"reason": reason, "sessions": ended, "grants": families},
        )
    return Ended(sessions=ended, grants=families)


@dataclass(frozen=True, slots=True)
class AppLogin:
    """An OAuth client's login (a live refresh family), listed among the
    person's sessions: the CLI's, an MCP client's, any app's. Its id is the
    grant's (``gr_…``), which its access tokens carry as ``gid``."""

    id: str
    client_id: str
    device: str  #: the client's name, as it registered
    created_at: datetime  #: when the person granted it
    last_active_at: datetime  #: its last refresh


async def app_logins(stores: Tx, user_id: str) -> list[AppLogin]:
    """The person's live OAuth logins, most recently refreshed first."""
    heads = await stores.refresh_tokens.live_heads(user_id, clock.now())
    return [
        AppLogin(
            id=head.family_id,
            client_id=head.client_id or "",
            device=await grants.client_name(stores, head.client_id or ""),
            created_at=head.family_created_at,
            last_active_at=head.created_at,
        )
        for head in heads
    ]


async def end_login(
    stores: Tx,
    login_id: str,
    *,
    user_id: str,
    access_ttl: timedelta,
    peer: Peer,
) -> None:
    """End one of the person's logins by the id the sessions list gives: a
    session, or an OAuth login, whose refresh family and access tokens are
    revoked together. Another person's id is simply not found."""
    if login_id not in {a.id for a in await app_logins(stores, user_id)}:
        await revoke(stores, login_id, user_id=user_id, reason="revoked", peer=peer)
        return
    await grants.revoke_grant(stores, login_id, access_ttl=access_ttl)
    await audit.record(
        stores,
        audit.Action.SESSION_REVOKED,
        peer,
        actor_id=user_id,
        target_id=login_id,
        details={"reason": "revoked"},
    )


async def sign_out(
    stores: Tx,
    *,
    session_id: str | None,
    session_token: str | None,
    refresh_token: str | None,
    peer: Peer,
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
            stores, session.id, user_id=session.user_id, reason="logout", peer=peer
        )
