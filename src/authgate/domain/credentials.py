"""Long-lived credentials people create: personal access tokens (``pat``) and API
keys (``key``). One value and one store serve both; ``access_tokens`` and
``api_keys`` hold the rules that differ.

Only the SHA-256 of a secret is stored; the secret is shown once, at creation.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from authgate.domain import audit, invalidation
from authgate.domain.context import Peer
from authgate.errors import Forbidden, InvalidRequest, InvalidToken, NotFound
from authgate.util import clock, tokens
from authgate.util.ids import new_id

CredentialKind = Literal["pat", "key"]
NAME_MAX = 100
#: ``last_used_at`` is written, and the use of a revoked credential audited, at
#: most this often per credential.
TOUCH_INTERVAL = timedelta(minutes=1)

_ID_PREFIX = {"pat": "tok", "key": "key"}
_ACTIONS = {
    "pat": (audit.Action.PAT_CREATED, audit.Action.PAT_REVOKED),
    "key": (audit.Action.API_KEY_CREATED, audit.Action.API_KEY_REVOKED),
}


@dataclass(frozen=True, slots=True)
class Credential:
    id: str
    kind: CredentialKind
    user_id: str
    name: str
    display_prefix: str
    scopes: tuple[str, ...]
    created_at: datetime
    expires_at: datetime | None = None
    org_id: str | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    #: when its owner was told it expires soon (``domain.notices``)
    expiry_noticed_at: datetime | None = None

    def status(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


@dataclass(frozen=True, slots=True)
class Parent:
    """The credential making a new PAT or API key, as a ceiling: what it makes
    can neither outlive it nor hold a scope it cannot give, so a leaked
    short-lived or read-only token cannot be turned into a long-lived or
    stronger one (``authority.parent`` says what each credential may give)."""

    scopes: frozenset[str]
    expires_at: datetime | None = None

    def bound(
        self, scopes: tuple[str, ...], expires_at: datetime | None
    ) -> datetime | None:
        """The new credential's expiry: its own, or the parent's when that
        comes first; refused when it asks for more than the parent has."""
        beyond = [s for s in scopes if s not in self.scopes]
        if beyond:
            raise Forbidden(
                f"This credential cannot give the scope {', '.join(beyond)}: "
                "what it makes holds at most "
                f"{', '.join(sorted(self.scopes)) or 'nothing'}."
            )
        if self.expires_at is None:
            return expires_at
        if expires_at is None:
            # Asked to last for ever (an API key's default): it lasts as long
            # as the token that made it.
            return self.expires_at
        if expires_at > self.expires_at:
            # Whole days are the unit people ask in: within the parent's last
            # day the new credential simply ends with it; beyond, it is refused.
            if expires_at - self.expires_at >= timedelta(days=1):
                raise Forbidden("A credential made with a token cannot outlive it.")
            return self.expires_at
        return expires_at


class CredentialStore(Protocol):
    async def add(self, credential: Credential, token_hash: str) -> None: ...

    async def get(self, credential_id: str) -> Credential | None: ...

    async def by_hash(self, token_hash: str) -> Credential | None: ...

    async def list_for_user(
        self, user_id: str, kind: CredentialKind
    ) -> list[Credential]:
        """The user's credentials of one kind that are not revoked, newest first."""

    async def revoke(self, credential_id: str, at: datetime) -> bool:
        """``False`` when already revoked or missing."""

    async def revoke_all_for_user(self, user_id: str, at: datetime) -> list[str]:
        """Revoke every live credential the user created; the ids revoked."""

    async def revoke_all_for_org(self, org_id: str, at: datetime) -> list[str]:
        """Revoke every live credential bound to the org; the ids revoked."""

    async def mark_used(
        self, credential_id: str, at: datetime, *, unless_since: datetime
    ) -> bool:
        """Set ``last_used_at`` to ``at`` unless it is ``unless_since`` or
        later; whether it was set (under concurrent calls, by one of them)."""

    async def expiring(
        self, after: datetime, before: datetime, limit: int
    ) -> list[Credential]:
        """Up to ``limit`` personal access tokens not revoked nor told of
        (``expiry_noticed_at``) that expire after ``after``, by ``before``,
        soonest first."""

    async def expiry_noticed(self, credential_id: str, at: datetime) -> bool:
        """Set ``expiry_noticed_at`` unless it is set; whether it was (under
        concurrent calls, by one of them)."""


class Tx(audit.Tx, invalidation.Tx, Protocol):
    @property
    def credentials(self) -> CredentialStore: ...


def check_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned or len(cleaned) > NAME_MAX or not cleaned.isprintable():
        raise InvalidRequest(f"Name must be 1-{NAME_MAX} printable characters.")
    return cleaned


async def issue(
    stores: Tx,
    *,
    kind: CredentialKind,
    prefix: str,
    user_id: str,
    name: str,
    scopes: tuple[str, ...],
    expires_at: datetime | None,
    org_id: str | None,
    peer: Peer,
) -> tuple[Credential, str]:
    """A new credential and its secret (shown once; only the hash is stored)."""
    secret = tokens.mint(prefix, kind)
    credential = Credential(
        id=new_id(_ID_PREFIX[kind]),
        kind=kind,
        user_id=user_id,
        name=check_name(name),
        display_prefix=tokens.display_prefix(secret),
        scopes=scopes,
        created_at=clock.now(),
        expires_at=expires_at,
        org_id=org_id,
    )
    await stores.credentials.add(credential, tokens.digest(secret))
    await audit.record(
        stores,
        _ACTIONS[kind][0],
        peer,
        actor_id=user_id,
        target_id=credential.id,
        org_id=org_id,
        details={"name": credential.name, "scopes": list(scopes)},
    )
    return credential, secret


async def revoke(
    stores: Tx,
    credential_id: str,
    *,
    kind: CredentialKind,
    user_id: str,
    peer: Peer,
) -> None:
    """Revoke one of the user's own credentials; anyone else's id is not found."""
    credential = await stores.credentials.get(credential_id)
    if credential is None or credential.kind != kind or credential.user_id != user_id:
        raise NotFound("No such token." if kind == "pat" else "No such API key.")
    if await stores.credentials.revoke(credential_id, clock.now()):
        stores.invalidate(credential_id)
        await audit.record(
            stores,
            _ACTIONS[kind][1],
            peer,
            actor_id=user_id,
            target_id=credential_id,
            org_id=credential.org_id,
        )


@dataclass(frozen=True, slots=True)
class Presented:
    """A presented secret, looked up without writing (a flood of unknown
    secrets must not take the database's write lock): the answer, and whether
    the use is to be written down by :func:`record_use`."""

    credential: Credential | None
    answer: Credential | InvalidToken
    at: datetime

    @property
    def quiet_since(self) -> datetime:
        """A use recorded since then makes this one go unrecorded: a live
        credential's ``last_used_at`` moves at most once a
        :data:`TOUCH_INTERVAL`, and a revoked one's use is audited as often, so
        a flood of it is not a flood of writes; the first use after the
        revocation always is."""
        since = self.at - TOUCH_INTERVAL
        revoked_at = self.credential.revoked_at if self.credential else None
        return max(since, revoked_at) if revoked_at is not None else since

    @property
    def to_record(self) -> bool:
        """Whether :func:`record_use` has anything to write (read-only guess;
        the write decides)."""
        used = self.credential
        if used is None:
            return False
        counted = used.revoked_at is not None or isinstance(self.answer, Credential)
        return counted and (
            used.last_used_at is None or used.last_used_at < self.quiet_since
        )


async def present(stores: Tx, secret: str) -> Presented:
    """The live credential a secret names, or the refusal to raise once the
    use is recorded. Expired and revoked ones are refused with a reason the
    caller can act on."""
    credential = await stores.credentials.by_hash(tokens.digest(secret))
    now = clock.now()
    answer: Credential | InvalidToken = InvalidToken("The token is not valid.")
    if credential is not None:
        status = credential.status(now)
        if status == "revoked":
            answer = InvalidToken("The token has been revoked.")
        elif status == "expired":
            answer = InvalidToken("The token has expired.")
        else:
            answer = credential
    return Presented(credential, answer, now)


async def record_use(stores: Tx, presented: Presented, peer: Peer) -> None:
    """The write :attr:`Presented.to_record` asks for: ``last_used_at``, and for
    a revoked credential an audit entry too, in the same transaction and only
    when this call moved ``last_used_at`` (so only one of many instances
    presented the same revoked secret at once writes it)."""
    used = presented.credential
    if used is None or not presented.to_record:
        return
    moved = await stores.credentials.mark_used(
        used.id, presented.at, unless_since=presented.quiet_since
    )
    if moved and used.revoked_at is not None:
        await audit.record(
            stores,
            audit.Action.CREDENTIAL_USED_AFTER_REVOKE,
            peer,
            actor_id=used.user_id,
            target_id=used.id,
            org_id=used.org_id,
        )
