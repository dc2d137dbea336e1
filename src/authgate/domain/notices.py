"""Notices: mail that tells a person something happened to their account (a
sign-in from a new device, a password or address change, a second factor
added or removed, a recovery key or code used, a token about to expire, the
account deleted), so that a change they did not make does not go unseen.

Each kind is an instance setting (``AUTHGATE_MAIL_NOTICES``, all on by
default). A notice goes only to a verified address: one nobody proved may be
anyone's, and telling it about the account would tell a stranger. It is
queued in the change's own transaction (``domain.mail``), so a change rolled
back sends nothing, and it holds no secret: what happened, when, from where,
and where to look (Settings → Sessions or Security) if it was not them.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from authgate.domain import credentials, mail, sessions, users
from authgate.domain.context import Peer
from authgate.domain.sealing import Sealer
from authgate.domain.sessions import Session
from authgate.domain.users import User
from authgate.util import clock
from authgate.util.useragent import device_label


class Kind(StrEnum):
    """What happened; each kind's template has its name (``mail/templates``)."""

    NEW_SIGN_IN = "new_sign_in"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - a kind's name
    EMAIL_CHANGED = "email_changed"
    FACTOR_ADDED = "factor_added"
    FACTOR_REMOVED = "factor_removed"
    RECOVERY_USED = "recovery_used"
    TOKEN_EXPIRING = "token_expiring"  # noqa: S105 - a kind's name
    ACCOUNT_DELETED = "account_deleted"


#: the sessions a sign-in is compared with: the latest on record
HISTORY = 100

#: how long before it expires a personal access token is told of
EXPIRY_NOTICE = timedelta(days=7)

#: the pages a notice points to (``web.paths``)
SESSIONS_PAGE = "/settings/sessions"
SECURITY_PAGE = "/settings/security"
TOKENS_PAGE = "/settings/tokens"


@dataclass(frozen=True, slots=True)
class Policy:
    """What the instance sends, built once from its settings."""

    sealer: Sealer  #: the mail queue's (``domain.mail``)
    kinds: frozenset[Kind]  #: ``AUTHGATE_MAIL_NOTICES``
    public_url: str  #: the links' base, with no trailing slash
    #: an IP's place ("City, Region, Country"), when the instance knows it
    locate: Callable[[str | None], str | None] = lambda _ip: None


class Tx(Protocol):
    # The stores named, not their modules' ``Tx``: the use cases that notify
    # sit on layers above, and inheriting here would order their bases.
    @property
    def users(self) -> users.UserStore: ...

    @property
    def sessions(self) -> sessions.SessionStore: ...

    @property
    def mail(self) -> mail.MailStore: ...


def when(at: datetime) -> str:
    """A time as a notice says it: unambiguous for a reader anywhere."""
    return at.strftime("%d %B %Y, %H:%M UTC").lstrip("0")


async def send(
    stores: Tx,
    policy: Policy,
    kind: Kind,
    user: User | str,
    *,
    peer: Peer | None = None,
    values: dict[str, str] | None = None,
) -> bool:
    """Queue the notice ``kind`` to the address of ``user`` (the account, or
    its id) when it is verified, in the caller's transaction; ``False`` when
    none is sent (the kind is off, the account is gone or has no verified
    address). ``peer`` says from where the change was made; ``values`` what
    the kind's template adds (no secret)."""
    if kind not in policy.kinds:
        return False
    if isinstance(user, str):
        found = await stores.users.get(user)
        if found is None:
            return False
        user = found
    if user.email is None or not user.email_verified:
        return False
    ip = peer.ip if peer else None
    told = {
        "username": user.username,
        "when": when(clock.now()),
        "sessions_link": f"{policy.public_url}{SESSIONS_PAGE}",
        "security_link": f"{policy.public_url}{SECURITY_PAGE}",
        "ip": ip or "",
        "device": device_label(peer.user_agent) if peer else "",
        "location": policy.locate(ip) or "",
    }
    await mail.queue(
        stores,
        policy.sealer,
        mail.Message(to=user.email, template=kind.value, values=told | (values or {})),
    )
    return True


def _place(policy: Policy, session: Session) -> str | None:
    """Where a session was started: its location when known, else its IP."""
    return policy.locate(session.ip) or session.ip


async def signed_in(stores: Tx, policy: Policy, session: Session, peer: Peer) -> bool:
    """After ``session`` starts: tell the person when its device or its place
    is one none of their sessions on record (``sessions.SessionStore.history``)
    was started from. The first session on record has nothing to compare
    with, so a new account's first sign-in sends nothing."""
    if Kind.NEW_SIGN_IN not in policy.kinds:
        return False
    earlier = [
        s
        for s in await stores.sessions.history(session.user_id, HISTORY)
        if s.id != session.id
    ]
    if not earlier:
        return False
    place = _place(policy, session)
    known_device = any(s.device == session.device for s in earlier)
    known_place = any(_place(policy, s) == place for s in earlier)
    if known_device and known_place:
        return False
    return await send(stores, policy, Kind.NEW_SIGN_IN, session.user_id, peer=peer)


class ExpiringTx(Tx, Protocol):
    @property
    def credentials(self) -> credentials.CredentialStore: ...


async def expiring(stores: ExpiringTx, policy: Policy, *, limit: int) -> int:
    """One batch of the periodic job (``server.housekeeping``): the personal
    access tokens that expire within :data:`EXPIRY_NOTICE` and were not told
    of are marked, and each owner told, so a token is told of once however
    often the job runs; how many were found (a full batch: run another).
    Nothing is marked while the kind is off, so turning it on later tells of
    the tokens then due."""
    if Kind.TOKEN_EXPIRING not in policy.kinds:
        return 0
    now = clock.now()
    due = await stores.credentials.expiring(now, now + EXPIRY_NOTICE, limit)
    for token in due:
        if token.expires_at is None or not await stores.credentials.expiry_noticed(
            token.id, now
        ):
            continue
        await send(
            stores,
            policy,
            Kind.TOKEN_EXPIRING,
            token.user_id,
            values={
                "token_name": token.name,
                "expires": when(token.expires_at),
                "tokens_link": f"{policy.public_url}{TOKENS_PAGE}",
            },
        )
    return len(due)
