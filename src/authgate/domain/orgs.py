"""Organizations and memberships: creation, roles, invites and the last-owner rule.

Every membership change first locks the organization's row, so concurrent
changes run one after another: two requests demoting the last two owners at
once leave one owner, whichever runs second is refused.
"""

import dataclasses
import re
import secrets
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from authgate.domain import audit, factors, invite_mail, invites, verification
from authgate.domain.context import Peer
from authgate.domain.credentials import CredentialStore
from authgate.domain.permissions import Action, Role, require, require_owner_for
from authgate.domain.users import User, UserStore, normalize_email
from authgate.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    MfaEnrollmentRequired,
    NotFound,
)
from authgate.util import clock
from authgate.util.ids import new_id

NAME_MAX = 100
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$")
INVITE_DAYS = 7
#: Slugs that name a page rather than an org (``/settings/orgs/accept``).
RESERVED_SLUGS = frozenset({"accept"})


@dataclass(frozen=True, slots=True)
class Org:
    id: str
    slug: str
    name: str
    created_at: datetime
    #: members act in it only once they have a second factor (set by an owner)
    require_mfa: bool = False


@dataclass(frozen=True, slots=True)
class Membership:
    org: Org
    user_id: str
    role: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Member:
    user_id: str
    username: str
    email: str | None
    role: str


class OrgStore(Protocol):
    async def add(self, org: Org) -> None:
        """Insert; raise ``Conflict`` when the slug is taken."""

    async def find(self, id_or_slug: str) -> Org | None: ...

    async def lock(self, org_id: str) -> None:
        """Hold the org's row until the transaction ends (``SELECT … FOR UPDATE``)."""

    async def update(
        self, org_id: str, *, name: str, slug: str, require_mfa: bool
    ) -> None:
        """Raise ``Conflict`` when the slug is taken."""

    async def delete(self, org_id: str) -> None: ...

    async def memberships(self, user_id: str) -> list[Membership]:
        """The user's memberships with their orgs, oldest first."""

    async def membership(self, org_id: str, user_id: str) -> Membership | None: ...

    async def members(self, org_id: str) -> list[Member]: ...

    async def add_member(
        self, org_id: str, user_id: str, role: str, at: datetime
    ) -> bool:
        """``False`` when the user is already a member."""

    async def set_role(self, org_id: str, user_id: str, role: str) -> None: ...

    async def remove_member(self, org_id: str, user_id: str) -> None: ...

    async def count_owners(self, org_id: str) -> int: ...

    async def member_ids(self, org_id: str) -> list[str]: ...


class Tx(factors.Tx, invite_mail.Tx, Protocol):
    @property
    def orgs(self) -> OrgStore: ...
    @property
    def credentials(self) -> CredentialStore: ...
    @property
    def users(self) -> UserStore: ...


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:48].strip("-")
    return slug or "org"


async def free_slug(stores: Tx, base: str) -> str:
    """``base``, or ``base-2``, ``base-3``… when taken, so that an org named
    but given no slug is never refused for a slug its creator did not choose
    (two names of no ASCII letters both make ``org``)."""
    if base not in RESERVED_SLUGS and await stores.orgs.find(base) is None:
        return base
    stem = base[:41].rstrip("-")  # room for a suffix within the 48 allowed
    for number in range(2, 10):
        candidate = f"{stem}-{number}"
        if await stores.orgs.find(candidate) is None:
            return candidate
    return f"{stem}-{secrets.token_hex(3)}"


def check_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned or len(cleaned) > NAME_MAX or not cleaned.isprintable():
        raise InvalidRequest(
            f"Organization name must be 1-{NAME_MAX} printable characters."
        )
    return cleaned


def check_slug(slug: str) -> str:
    if not _SLUG.match(slug) or slug.startswith("org_"):
        raise InvalidRequest(
            "Slug must be 1-48 lowercase letters, digits or '-', "
            "not starting or ending with '-'."
        )
    if slug in RESERVED_SLUGS:
        raise InvalidRequest(f"The slug '{slug}' is reserved; choose another.")
    return slug


def check_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InvalidRequest(
            f"Role must be one of: {', '.join(r.value for r in Role)}."
        ) from None


async def create(
    stores: Tx, *, user_id: str, name: str, slug: str | None, peer: Peer
) -> Membership:
    """A new organization with its creator as owner (and their default org
    if they had none)."""
    now = clock.now()
    name = check_name(name)
    org = Org(
        id=new_id("org"),
        slug=check_slug(slug) if slug else await free_slug(stores, slugify(name)),
        name=name,
        created_at=now,
    )
    await stores.orgs.add(org)
    await stores.orgs.add_member(org.id, user_id, Role.OWNER, now)
    await stores.users.set_default_org_if_unset(user_id, org.id)
    stores.invalidate(user_id)
    await audit.record(
        stores,
        audit.Action.ORG_CREATED,
        peer,
        actor_id=user_id,
        target_id=org.id,
        org_id=org.id,
        details={"slug": org.slug},
    )
    return Membership(org=org, user_id=user_id, role=Role.OWNER, created_at=now)


async def acting(
    stores: Tx, org_id: str, user_id: str, *, read_only: bool = False
) -> Membership | None:
    """The membership a credential of ``user_id`` acts with in an org, or
    ``None`` when the user is not (or no longer) a member, or the org requires
    a second factor the user does not have. A read-only credential acts as a
    viewer, whatever its user's role."""
    membership = await stores.orgs.membership(org_id, user_id)
    if membership is None or not await meets_rule(stores, membership):
        return None
    return _as(membership, read_only)


def _as(membership: Membership, read_only: bool) -> Membership:
    if read_only:
        return dataclasses.replace(membership, role=Role.VIEWER)
    return membership


async def meets_rule(stores: Tx, membership: Membership) -> bool:
    """Whether the member may act in the org: an org that requires a second
    factor grants its context only to members who have one."""
    return not membership.org.require_mfa or await factors.has_factor(
        stores, membership.user_id
    )


def enrol_first(org: Org) -> MfaEnrollmentRequired:
    return MfaEnrollmentRequired(
        f"{org.name} requires a second factor of its members: set one up in "
        "Settings → Security (an authenticator app or a passkey), then try again."
    )


async def access(
    stores: Tx, id_or_slug: str, user_id: str, *, read_only: bool = False
) -> Membership:
    """The caller's membership in an org; not a member and no such org look
    alike (404), so ids and slugs can't be probed."""
    org = await stores.orgs.find(id_or_slug)
    membership = await stores.orgs.membership(org.id, user_id) if org else None
    if membership is None:
        raise NotFound("No such organization.")
    if not await meets_rule(stores, membership):
        raise enrol_first(membership.org)
    return _as(membership, read_only)


def claims(membership: Membership | None) -> dict[str, str | list[str]]:
    """What a token acting in an org says about it, for other apps to read:
    ``org`` and the caller's ``roles`` there (one role; a list, as Keycloak
    and RFC 9068 §7.2.1 write roles). Org roles only: instance administration
    is never carried in a token."""
    if membership is None:
        return {}
    return {"org": membership.org.id, "roles": [membership.role]}


async def set_default(stores: Tx, user_id: str, id_or_slug: str | None) -> str | None:
    """Choose the org a request acts in when it names none (``None``: no org).
    Only one of the user's own orgs can be chosen."""
    org_id = (await access(stores, id_or_slug, user_id)).org.id if id_or_slug else None
    await stores.users.set_default_org(user_id, org_id)
    stores.invalidate(user_id)
    return org_id


async def members(stores: Tx, membership: Membership) -> list[Member]:
    require(membership.role, Action.READ_MEMBERS)
    return await stores.orgs.members(membership.org.id)


async def update(
    stores: Tx,
    membership: Membership,
    *,
    name: str | None,
    slug: str | None,
    require_mfa: bool | None = None,
    peer: Peer,
) -> Org:
    """``require_mfa``: whether members must have a second factor to act in
    the org; only an owner may change it."""
    require(membership.role, Action.UPDATE)
    org = membership.org
    if require_mfa is not None and require_mfa != org.require_mfa:
        require(membership.role, Action.REQUIRE_MFA)
        if require_mfa and not await factors.has_factor(stores, membership.user_id):
            raise Conflict(
                "Set up a second factor for yourself first (Settings → Security): "
                "once the organization requires one, members without it cannot "
                "act in it."
            )
    new_name = check_name(name) if name is not None else org.name
    new_slug = check_slug(slug) if slug is not None else org.slug
    new_rule = org.require_mfa if require_mfa is None else require_mfa
    await stores.orgs.update(org.id, name=new_name, slug=new_slug, require_mfa=new_rule)
    stores.invalidate(org.id, *await stores.orgs.member_ids(org.id))
    await audit.record(
        stores,
        audit.Action.ORG_UPDATED,
        peer,
        actor_id=membership.user_id,
        target_id=org.id,
        org_id=org.id,
        details={
            "name": new_name,
            "slug": new_slug,
            **({"require_mfa": new_rule} if require_mfa is not None else {}),
        },
    )
    return replace(org, slug=new_slug, name=new_name, require_mfa=new_rule)


async def delete(stores: Tx, membership: Membership, peer: Peer) -> None:
    require(membership.role, Action.DELETE)
    org = membership.org
    members = await stores.orgs.member_ids(org.id)
    keys = await stores.credentials.revoke_all_for_org(org.id, clock.now())
    await stores.orgs.delete(org.id)
    stores.invalidate(org.id, *members, *keys)
    await audit.record(
        stores,
        audit.Action.ORG_DELETED,
        peer,
        actor_id=membership.user_id,
        target_id=org.id,
        org_id=org.id,
        details={"slug": org.slug},
    )


async def change_role(
    stores: Tx,
    membership: Membership,
    user_id: str,
    role: str,
    peer: Peer,
) -> Member:
    new_role = check_role(role)
    require(membership.role, Action.CHANGE_ROLE)
    membership = await _lock(stores, membership)
    require(membership.role, Action.CHANGE_ROLE)
    org = membership.org
    target = await stores.orgs.membership(org.id, user_id)
    if target is None:
        raise NotFound("No such member.")
    require_owner_for(membership.role, target.role, new_role)
    if target.role == Role.OWNER and new_role != Role.OWNER:
        await _keep_an_owner(stores, org.id)
    await stores.orgs.set_role(org.id, user_id, new_role)
    stores.invalidate(user_id)
    await audit.record(
        stores,
        audit.Action.MEMBER_ROLE_CHANGED,
        peer,
        actor_id=membership.user_id,
        target_id=user_id,
        org_id=org.id,
        details={"from": target.role, "to": new_role},
    )
    return next(m for m in await stores.orgs.members(org.id) if m.user_id == user_id)


async def remove_member(
    stores: Tx, membership: Membership, user_id: str, peer: Peer
) -> None:
    """Remove a member; anyone may remove themselves (leave)."""
    org = membership.org
    leaving = user_id == membership.user_id
    if not leaving:
        require(membership.role, Action.REMOVE_MEMBER)
    membership = await _lock(stores, membership)
    if not leaving:
        require(membership.role, Action.REMOVE_MEMBER)
    target = await stores.orgs.membership(org.id, user_id)
    if target is None:
        raise NotFound("No such member.")
    if not leaving:
        require_owner_for(membership.role, target.role)
    if target.role == Role.OWNER:
        await _keep_an_owner(stores, org.id)
    await stores.orgs.remove_member(org.id, user_id)
    await stores.users.clear_default_org(user_id, org.id)
    stores.invalidate(user_id)
    await audit.record(
        stores,
        audit.Action.MEMBER_LEFT if leaving else audit.Action.MEMBER_REMOVED,
        peer,
        actor_id=membership.user_id,
        target_id=user_id,
        org_id=org.id,
    )


async def _lock(stores: Tx, membership: Membership) -> Membership:
    """Lock the org, then read the actor's membership again: a change that held
    the lock first (say, demoting the actor) counts, as if run one after the
    other. (Only read-write callers get here, so no read-only cap is lost.)"""
    await stores.orgs.lock(membership.org.id)
    current = await stores.orgs.membership(membership.org.id, membership.user_id)
    if current is None:
        raise NotFound("No such organization.")
    return current


async def _keep_an_owner(stores: Tx, org_id: str) -> None:
    if await stores.orgs.count_owners(org_id) <= 1:
        raise Conflict("An organization needs an owner: make someone else owner first.")


async def invite(
    stores: Tx,
    membership: Membership,
    *,
    email: str,
    role: str,
    mailing: verification.Mailing,
    accounts: bool,
    peer: Peer,
) -> tuple[invites.Invite, str]:
    """An invite into the org for ``email``, mailed to it in this transaction;
    ``accounts``: it may create the account
    (``AUTHGATE_ORG_INVITES_CREATE_ACCOUNTS``)."""
    new_role = check_role(role)
    require(membership.role, Action.INVITE)
    require_owner_for(membership.role, new_role)
    address = normalize_email(email)
    if address is None:
        raise InvalidRequest("An email address is required.")
    invite, code = await invites.create(
        stores,
        prefix=mailing.token_prefix,
        created_by=membership.user_id,
        expires_in_days=INVITE_DAYS,
        peer=peer,
        org_id=membership.org.id,
        email=address,
        role=new_role,
    )
    await invite_mail.send(
        stores,
        mailing,
        invite,
        code,
        org_name=membership.org.name,
        accounts=accounts,
    )
    return invite, code


async def invites_of(stores: Tx, membership: Membership) -> list[invites.Invite]:
    """The org's invites, newest first; seen by those who may invite."""
    require(membership.role, Action.INVITE)
    return await stores.invites.all(membership.org.id)


async def revoke_invite(
    stores: Tx, membership: Membership, invite_id: str, peer: Peer
) -> None:
    require(membership.role, Action.INVITE)
    await invites.revoke(
        stores,
        invite_id,
        actor_id=membership.user_id,
        peer=peer,
        org_id=membership.org.id,
    )


async def accept(stores: Tx, code: str, *, user: User, peer: Peer) -> Membership:
    """Join the org an invite is for."""
    invite, _org = await invite_for(stores, code, user=user)
    return await join(stores, invite, user.id, peer)


async def decline(stores: Tx, code: str, *, user: User, peer: Peer) -> Org:
    """Turn an invite down: it is revoked (and audited as such), so the link
    cannot be used afterwards by anyone."""
    invite, org = await invite_for(stores, code, user=user)
    await invites.revoke(stores, invite.id, actor_id=user.id, peer=peer, org_id=org.id)
    return org


async def invite_for(
    stores: Tx, code: str, *, user: User
) -> tuple[invites.Invite, Org]:
    """The usable org invite a code names, and its org. The invite names an
    email address: only the account with that address, verified, may see or
    answer it."""
    invite = await invites.find_usable(stores, code)
    if invite.org_id is None:
        raise Forbidden("That is not an organization invite.")
    if invite.email is None:
        raise Forbidden("This invite was sent to another email address.")
    invites.check_acceptor(invite, user.email, verified=user.email_verified)
    org = await stores.orgs.find(invite.org_id)
    if org is None:
        raise Forbidden("The organization no longer exists.")
    return invite, org


async def join(
    stores: Tx, invite: invites.Invite, user_id: str, peer: Peer
) -> Membership:
    """Consume an org invite and add its membership (the caller checked who may)."""
    if invite.org_id is None or invite.role is None:
        raise Forbidden("That is not an organization invite.")
    await stores.orgs.lock(invite.org_id)
    org = await stores.orgs.find(invite.org_id)
    if org is None:
        raise Forbidden("The organization no longer exists.")
    await invites.consume(stores, invite, user_id, peer)
    now = clock.now()
    if not await stores.orgs.add_member(org.id, user_id, invite.role, now):
        raise Conflict("You are already a member of this organization.")
    await stores.users.set_default_org_if_unset(user_id, org.id)
    stores.invalidate(user_id)
    await audit.record(
        stores,
        audit.Action.MEMBER_JOINED,
        peer,
        actor_id=user_id,
        target_id=user_id,
        org_id=org.id,
        details={"role": invite.role, "invite_id": invite.id},
    )
    return Membership(org=org, user_id=user_id, role=invite.role, created_at=now)
