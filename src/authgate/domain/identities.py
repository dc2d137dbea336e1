"""Accounts behind upstream sign-in: which Authgate user an upstream identity
is, made just in time or linked by a verified email address.

A sign-in through a provider (OIDC issuer, WorkOS) arrives as an
:class:`UpstreamIdentity`. :func:`sign_in` decides whose account it is::

    allowlist ──refused──► SignInRefused("email_not_allowed" | "email_unverified")
        │
    linked (provider, subject)? ──yes──► that user (refused when disabled)
        │ no
    verified email names an account? ──yes──► verified there too? ──yes──► link it
        │ no                                       │ no
        │                     SignInRefused("account_email_unverified")
    unverified email names an account? ──yes──► SignInRefused("email_unverified")
        │ no
    accounts may be created (policy)? ──no──► SignInRefused("account_unknown")
        │ yes
    first user, invite, or open registration? ──no──► SignInRefused("invite_required")
        │ yes
    new user (admin when first), linked

A link is made only on an address the provider verified: otherwise anyone who
can type someone else's address into a lax provider would sign in as them.
And only into an account that verified the address too: otherwise someone who
registered a local account with another person's address (never proving it)
would get that person linked into the account they hold the password of
(account pre-hijacking).
For the same reason a new account keeps its email only when it is verified,
so a later verified sign-in cannot be linked into an account someone made
with an unverified claim of that address.

A provider's organization (WorkOS ``organization_id``) maps onto one Authgate
organization, made on first sight and remembered by its external id; the
person joins it as a member.
"""

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from authgate.domain import audit, invites, orgs, registration
from authgate.domain.allowlist import Allowlist
from authgate.domain.context import Peer
from authgate.domain.orgs import Membership, Org, check_name, slugify
from authgate.domain.permissions import Role
from authgate.domain.users import User, normalize_email, normalize_username
from authgate.errors import Forbidden, InvalidRequest, SignInRefused
from authgate.util import clock
from authgate.util.ids import new_id


@dataclass(frozen=True, slots=True)
class UpstreamIdentity:
    """What a provider says about the person who just signed in with it."""

    provider: str  #: ``oidc`` or ``workos``
    subject: str  #: the provider's stable id for the person (OIDC ``sub``)
    email: str | None
    email_verified: bool
    username: str | None = None  #: a hint, e.g. OIDC ``preferred_username``
    name: str | None = None
    org_id: str | None = None  #: the provider's organization id, if it has one
    org_name: str | None = None
    #: how the provider authenticated the person (RFC 8176 values, OIDC ``amr``)
    amr: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ExternalIdentity:
    """A link: this provider's subject is this Authgate user."""

    provider: str
    subject: str
    user_id: str
    email: str | None
    created_at: datetime


class IdentityStore(Protocol):
    async def get(self, provider: str, subject: str) -> ExternalIdentity | None: ...

    async def add(self, identity: ExternalIdentity) -> None:
        """Insert; raise ``Conflict`` when the provider's subject is linked already."""

    async def for_user(self, user_id: str) -> list[ExternalIdentity]:
        """The user's links, oldest first."""

    async def org(self, provider: str, external_id: str) -> str | None:
        """The Authgate org id linked to the provider's organization."""

    async def add_org(
        self, provider: str, external_id: str, org_id: str, at: datetime
    ) -> None:
        """Insert; raise ``Conflict`` when the organization is linked already."""


class Tx(orgs.Tx, Protocol):
    @property
    def identities(self) -> IdentityStore: ...


@dataclass(frozen=True, slots=True)
class Policy:
    allowlist: Allowlist
    allow_registration: bool
    #: ``False``: an identity with no account is refused (``account_unknown``)
    #: instead of getting one, even the first or with open registration; for
    #: bearer tokens, which must never make accounts as a side effect.
    create_accounts: bool = True
    #: ``AUTHGATE_ORG_INVITES_CREATE_ACCOUNTS`` (see ``registration``)
    org_invites_create_accounts: bool = False


@dataclass(frozen=True, slots=True)
class SignedIn:
    user: User
    created: bool = False  #: the account was made by this sign-in
    linked: bool = False  #: the identity was linked by this sign-in
    membership: Membership | None = None  #: the provider organization joined


async def sign_in(
    stores: Tx,
    identity: UpstreamIdentity,
    policy: Policy,
    *,
    invite_code: str | None,
    peer: Peer,
) -> SignedIn:
    """Whose account this upstream identity is (see the module docstring);
    raises :class:`SignInRefused` with the reason the audit log records."""
    provider = identity.provider
    email = _email(identity.email)
    verified = identity.email_verified and email is not None
    if not policy.allowlist.open:
        if not verified:
            raise SignInRefused(
                "email_unverified",
                "Your identity provider has not verified your email address, so "
                "it cannot be checked against the addresses allowed to sign in here.",
            )
        if not policy.allowlist.allows(email):
            raise SignInRefused(
                "email_not_allowed", f"{email} is not allowed to sign in here."
            )

    link = await stores.identities.get(provider, identity.subject)
    if link is not None:
        user = await stores.users.get(link.user_id)
        if user is None:  # pragma: no cover - the link row cascades with the user
            raise SignInRefused("account_missing", "That account no longer exists.")
        result = SignedIn(user=user)
    else:
        existing = await stores.users.by_email(email) if email else None
        if existing is not None and not verified:
            raise SignInRefused(
                "email_unverified",
                f"An account with the email address {email} already exists here, "
                "but your identity provider has not verified that the address is "
                "yours, so the two were not linked. Sign in with your password, "
                "or verify the address with your provider first.",
            )
        if existing is not None and not existing.email_verified:
            raise SignInRefused(
                "account_email_unverified",
                f"An account with the email address {email} already exists here, "
                "but that account has not verified the address, so the two were "
                "not linked. Sign in to it with its password and verify the "
                "address from Settings → Profile, then sign in here again.",
            )
        if existing is not None:
            await _link(stores, identity, existing.id, email, peer)
            result = SignedIn(user=existing, linked=True)
        elif not policy.create_accounts:
            raise SignInRefused(
                "account_unknown", "There is no account here for this identity."
            )
        else:
            user = await _create(
                stores,
                identity,
                email if verified else None,
                policy,
                invite_code,
                peer,
            )
            result = SignedIn(user=user, created=True, linked=True)
    if not result.user.active:
        raise SignInRefused("account_disabled", "This account is disabled.")
    if identity.org_id:
        membership = await _join_org(stores, identity, result.user.id, peer)
        result = SignedIn(result.user, result.created, result.linked, membership)
    return result


async def record_refusal(
    stores: Tx,
    provider: str,
    reason: str,
    peer: Peer,
    *,
    email: str | None = None,
    subject: str | None = None,
) -> None:
    """Audit a refused upstream sign-in (its own transaction: the sign-in's
    was rolled back, or never began)."""
    details: dict[str, str] = {"provider": provider, "reason": reason}
    if email:
        details["email"] = email
    if subject:
        details["subject"] = subject
    await audit.record(stores, audit.Action.LOGIN_REFUSED, peer, details=details)


#: The provider name dev login signs in with.
DEV = "dev"


async def dev_account(stores: Tx, username: str, peer: Peer) -> User:
    """Dev login's account: the user named ``username``, or a new password-less
    one (the administrator, if it is the first). The web layer allows this
    only on loopback (``authgate.upstream.dev_login``)."""
    name = normalize_username(username)
    user = await stores.users.by_username(name)
    if user is None:
        first = await stores.users.count() == 0
        user = User(
            id=new_id("usr"),
            username=name,
            email=None,
            is_admin=first,
            password_hash=None,
            created_at=clock.now(),
        )
        await stores.users.add(user)
        await audit.record(
            stores,
            audit.Action.USER_CREATED,
            peer,
            actor_id=user.id,
            target_id=user.id,
            details={"username": name, "is_admin": first, "provider": DEV},
        )
    if not user.active:
        raise SignInRefused("account_disabled", "This account is disabled.")
    await audit.record(
        stores,
        audit.Action.DEV_LOGIN,
        peer,
        actor_id=user.id,
        target_id=user.id,
        details={"provider": DEV, "username": name},
    )
    return user


def _email(raw: str | None) -> str | None:
    try:
        return normalize_email(raw)
    except InvalidRequest:
        return None


async def _link(
    stores: Tx,
    identity: UpstreamIdentity,
    user_id: str,
    email: str | None,
    peer: Peer,
) -> None:
    await stores.identities.add(
        ExternalIdentity(
            provider=identity.provider,
            subject=identity.subject,
            user_id=user_id,
            email=email,
            created_at=clock.now(),
        )
    )
    await audit.record(
        stores,
        audit.Action.IDENTITY_LINKED,
        peer,
        actor_id=user_id,
        target_id=user_id,
        details={
            "provider": identity.provider,
            "subject": identity.subject,
            "email": email,
        },
    )


async def _create(
    stores: Tx,
    identity: UpstreamIdentity,
    email: str | None,
    policy: Policy,
    invite_code: str | None,
    peer: Peer,
) -> User:
    """A just-in-time account, under the same rule as registration: the first
    person, anyone with an invite, or anyone when registration is open."""
    first = await stores.users.count() == 0
    invite = None
    if invite_code:
        try:
            invite = await invites.find_usable(stores, invite_code)
        except Forbidden as exc:
            raise SignInRefused("invite_invalid", exc.description) from None
    if not registration.may_create_account(
        invite,
        first=first,
        allow_registration=policy.allow_registration,
        org_invites_create_accounts=policy.org_invites_create_accounts,
    ):
        if invite is not None:
            raise SignInRefused(
                "org_invite_needs_account", registration.ORG_INVITE_NEEDS_ACCOUNT
            )
        raise SignInRefused(
            "invite_required",
            "This instance is invite-only and you have no account here yet. Ask an "
            "administrator for an invite, then sign in from its link.",
        )
    if (
        invite is not None
        and invite.email is not None
        and (email is None or invite.email.lower() != email.lower())
    ):
        raise SignInRefused(
            "invite_email_mismatch",
            "This invite was sent to another email address (or your identity "
            "provider has not verified yours).",
        )
    username = await unique_username(
        stores, [identity.username, (email or "").split("@")[0], identity.name]
    )
    now = clock.now()
    user = User(
        id=new_id("usr"),
        username=username,
        email=email,
        is_admin=first,
        password_hash=None,  # signs in through the provider only
        created_at=now,
        # kept only when the provider verified it (see the module docstring)
        email_verified_at=now if email is not None else None,
    )
    await stores.users.add(user)
    await audit.record(
        stores,
        audit.Action.USER_CREATED,
        peer,
        actor_id=user.id,
        target_id=user.id,
        details={
            "username": username,
            "is_admin": first,
            "provider": identity.provider,
        },
    )
    await _link(stores, identity, user.id, email, peer)
    if invite is not None and invite.org_id is not None:
        await orgs.join(stores, invite, user.id, peer)
    elif invite is not None:
        await invites.consume(stores, invite, user.id, peer)
    return user


_NOT_USERNAME = re.compile(r"[^a-z0-9._-]+")
_USERNAME_MAX = 60  # room for a "-NN" suffix within the 64 allowed


def username_base(hint: str | None) -> str | None:
    """A valid username made from a hint (``Zoë Müller`` → ``zoe-muller``), or
    ``None`` when too little of it is left."""
    if not hint:
        return None
    text = unicodedata.normalize("NFKD", hint).encode("ascii", "ignore").decode()
    name = _NOT_USERNAME.sub("-", text.casefold()).strip("-._")[:_USERNAME_MAX]
    name = name.strip("-._")
    return name if len(name) >= 2 else None


async def unique_username(stores: Tx, hints: list[str | None]) -> str:
    """The first usable hint, made unique with a number (``alice-2``)."""
    base = next((b for b in map(username_base, hints) if b), "user")
    if await stores.users.by_username(base) is None:
        return base
    for number in range(2, 10):
        candidate = f"{base}-{number}"
        if await stores.users.by_username(candidate) is None:
            return candidate
    return f"{base}-{secrets.token_hex(3)}"


async def _join_org(
    stores: Tx, identity: UpstreamIdentity, user_id: str, peer: Peer
) -> Membership:
    provider, external_id = identity.provider, identity.org_id or ""
    now = clock.now()
    org_id = await stores.identities.org(provider, external_id)
    org = await stores.orgs.find(org_id) if org_id else None
    if org is None:
        name = check_name((identity.org_name or external_id)[:100])
        org = Org(
            id=new_id("org"),
            slug=await _free_slug(stores, slugify(name)),
            name=name,
            created_at=now,
        )
        await stores.orgs.add(org)
        await stores.identities.add_org(provider, external_id, org.id, now)
        await audit.record(
            stores,
            audit.Action.ORG_CREATED,
            peer,
            actor_id=user_id,
            target_id=org.id,
            org_id=org.id,
            details={
                "slug": org.slug,
                "provider": provider,
                "external_id": external_id,
            },
        )
    membership = await stores.orgs.membership(org.id, user_id)
    if membership is not None:
        return membership
    await stores.orgs.add_member(org.id, user_id, Role.MEMBER, now)
    await stores.users.set_default_org_if_unset(user_id, org.id)
    stores.invalidate(user_id)
    await audit.record(
        stores,
        audit.Action.MEMBER_JOINED,
        peer,
        actor_id=user_id,
        target_id=user_id,
        org_id=org.id,
        details={"role": Role.MEMBER.value, "provider": provider},
    )
    return Membership(org=org, user_id=user_id, role=Role.MEMBER, created_at=now)


async def _free_slug(stores: Tx, base: str) -> str:
    base = base[:40].strip("-") or "org"
    candidate = base
    number = 2
    while await stores.orgs.find(candidate) is not None:
        candidate = f"{base}-{number}"
        number += 1
    return candidate
