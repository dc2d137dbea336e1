"""Instance invites: single-use codes, optionally expiring, that let someone
register on an invite-only instance.

An invite may name an address (an org invite always does): then it is for the
person with that address, and an existing account answers it only once that
address is its verified one (:func:`check_acceptor`); a new account gets it
(``domain.invite_mail`` says when verified on the spot)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from authgate.domain import audit
from authgate.domain.context import Peer
from authgate.errors import Forbidden, InvalidRequest, NotFound
from authgate.util import clock, tokens
from authgate.util.ids import new_id

MAX_DAYS = 365


@dataclass(frozen=True, slots=True)
class Invite:
    id: str
    created_by: str | None
    created_at: datetime
    expires_at: datetime | None
    used_at: datetime | None = None
    used_by: str | None = None
    revoked_at: datetime | None = None
    #: Set for organization invites: which org, as what.
    org_id: str | None = None
    #: Whom the invite is for (always set for an org invite).
    email: str | None = None
    role: str | None = None

    @property
    def status(self) -> str:
        if self.revoked_at:
            return "revoked"
        if self.used_at:
            return "used"
        if self.expires_at and self.expires_at <= clock.now():
            return "expired"
        return "unused"


class InviteStore(Protocol):
    async def add(self, invite: Invite, code_hash: str) -> None: ...

    async def by_code_hash(self, code_hash: str) -> Invite | None: ...

    async def get(self, invite_id: str) -> Invite | None: ...

    async def all(self, org_id: str | None = None) -> list[Invite]:
        """Instance invites (``org_id`` None) or one org's invites, newest first."""

    async def mark_used(self, invite_id: str, user_id: str, at: datetime) -> bool:
        """Atomically mark an unused invite used; ``False`` when it already was."""

    async def revoke(self, invite_id: str, at: datetime) -> bool: ...


class Tx(audit.Tx, Protocol):
    @property
    def invites(self) -> InviteStore: ...


async def create(
    stores: Tx,
    *,
    prefix: str,
    created_by: str | None,
    expires_in_days: int | None,
    peer: Peer,
    org_id: str | None = None,
    email: str | None = None,
    role: str | None = None,
) -> tuple[Invite, str]:
    """A new invite and its code (shown once; only its hash is stored). With
    ``org_id``, an invite into that organization for ``email`` as ``role``."""
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_DAYS:
        raise InvalidRequest(f"An invite expires in 1 to {MAX_DAYS} days.")
    now = clock.now()
    code = tokens.mint(prefix, "inv")
    invite = Invite(
        id=new_id("inv"),
        created_by=created_by,
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
        org_id=org_id,
        email=email,
        role=role,
    )
    await stores.invites.add(invite, tokens.digest(code))
    await audit.record(
        stores,
        audit.Action.INVITE_CREATED,
        peer,
        actor_id=created_by,
        target_id=invite.id,
        org_id=org_id,
        details={"email": email, "role": role} if org_id else None,
    )
    return invite, code


_UNUSABLE = "That invite code is invalid, used or expired."


async def find_usable(stores: Tx, code: str) -> Invite:
    invite = await stores.invites.by_code_hash(tokens.digest(code.strip()))
    if invite is None or invite.status != "unused":
        raise Forbidden(_UNUSABLE)
    return invite


async def consume(stores: Tx, invite: Invite, user_id: str, peer: Peer) -> None:
    # The conditional update makes a code good for exactly one account even when
    # two registrations race with it.
    if not await stores.invites.mark_used(invite.id, user_id, clock.now()):
        raise Forbidden(_UNUSABLE)
    await audit.record(
        stores,
        audit.Action.INVITE_USED,
        peer,
        actor_id=user_id,
        target_id=invite.id,
        org_id=invite.org_id,
    )


async def revoke(
    stores: Tx,
    invite_id: str,
    *,
    actor_id: str,
    peer: Peer,
    org_id: str | None = None,
) -> None:
    """Revoke an unused invite of the instance, or of the org ``org_id``."""
    invite = await stores.invites.get(invite_id)
    if (
        invite is None
        or invite.org_id != org_id
        or not await stores.invites.revoke(invite_id, clock.now())
    ):
        raise NotFound("No such unused invite.")
    await audit.record(
        stores,
        audit.Action.INVITE_REVOKED,
        peer,
        actor_id=actor_id,
        target_id=invite_id,
        org_id=org_id,
    )


def mask(email: str) -> str:
    """``a•••@example.com``: enough for the invited person to recognise their
    address, too little to learn it from a refusal."""
    local, _, domain = email.rpartition("@")
    return f"{local[:1]}•••@{domain}"


def check_acceptor(invite: Invite, email: str | None, *, verified: bool) -> None:
    """Refuse (403) an existing account answering an invite for an address
    other than its own verified one: an unverified address may be anyone's."""
    if invite.email is None:
        return
    if email is None or email.lower() != invite.email.lower():
        raise Forbidden(
            f"This invite was sent to {mask(invite.email)}, not to your account's "
            "address. Sign in with the account that has that address."
        )
    if not verified:
        raise Forbidden(
            f"This invite was sent to {mask(invite.email)}: verify that address "
            "first (Settings → Profile sends a link), then open the invite again."
        )
