"""Who may create an account: the first person (who becomes the administrator),
anyone with an invite code, or anyone at all when registration is open; and,
when ``AUTHGATE_SIGNIN_ALLOWED_EMAILS`` is set, only with an allowed address.

An organization invite brings a person into an organization, not onto the
instance: on an invite-only instance it is accepted by someone signed in to an
account they already have, unless ``AUTHGATE_ORG_INVITES_CREATE_ACCOUNTS`` lets
it create the account for the invited address (joining the organization in
the same step). Otherwise any member allowed to invite could bring in people
no administrator admitted.

An invite that names an address (an org invite always does; an instance
invite when the administrator gave one) makes an account with that address
only, verified on the spot when registered through the mailed link
(``domain.invite_mail``).
"""

import dataclasses
from typing import Protocol

from authgate.domain import invite_mail, invites, orgs, users, verification
from authgate.domain.allowlist import OPEN, Allowlist
from authgate.domain.context import Peer
from authgate.errors import Forbidden, SignInRefused

#: One answer whatever the address: it must not tell whether an account exists.
ORG_INVITE_NEEDS_ACCOUNT = (
    "An organization invite does not create accounts here: sign in to your "
    "account, then accept the invite."
)


@dataclasses.dataclass(frozen=True, slots=True)
class Rules:
    """This instance's rules for one registration attempt."""

    invite_code: str | None
    allow_registration: bool
    allowlist: Allowlist = OPEN
    org_invites_create_accounts: bool = False
    #: the proof the invite's mailed link carries (``invite_mail.proven``)
    invite_proof: str | None = None


class Tx(orgs.Tx, verification.Tx, Protocol): ...


def may_create_account(
    invite: "invites.Invite | None",
    *,
    first: bool,
    allow_registration: bool,
    org_invites_create_accounts: bool,
) -> bool:
    """Whether a new account may be made (by registration or a first upstream
    sign-in): the first one, with open registration, with an instance invite,
    or with an organization invite when the instance lets those make accounts."""
    if first or allow_registration:
        return True
    if invite is None:
        return False
    return invite.org_id is None or org_invites_create_accounts


async def admit(
    stores: Tx, rules: Rules, email: str | None
) -> tuple[bool, "invites.Invite | None", str | None]:
    """Whether this registration may go ahead: (first account?, the invite it
    uses, the address it gets). Run once read-only before the password is
    hashed, so a refused request costs no argon2 hash, and again by
    :func:`register` in the write transaction, which decides."""
    first = await stores.users.count() == 0
    invite = (
        await invites.find_usable(stores, rules.invite_code)
        if rules.invite_code
        else None
    )
    if not may_create_account(
        invite,
        first=first,
        allow_registration=rules.allow_registration,
        org_invites_create_accounts=rules.org_invites_create_accounts,
    ):
        raise Forbidden(
            ORG_INVITE_NEEDS_ACCOUNT
            if invite is not None
            else "Registration needs an invite code."
        )
    if invite is not None and invite.email is not None:
        address = users.normalize_email(email)
        if address is not None and address.lower() != invite.email.lower():
            raise Forbidden(
                f"This invite was sent to {invites.mask(invite.email)}: register "
                "with that address (or leave the address empty)."
            )
        email = invite.email
    if not rules.allowlist.allows(users.normalize_email(email)):
        # AUTHGATE_SIGNIN_ALLOWED_EMAILS holds for local accounts as for
        # upstream ones, the first (administrator) account included.
        raise SignInRefused(
            "email_not_allowed",
            "Registration here needs an email address on the instance's list of "
            "allowed addresses.",
        )
    return first, invite, users.normalize_email(email)


async def register(
    stores: Tx,
    account: users.NewAccount,
    rules: Rules,
    mailing: verification.Mailing,
    *,
    peer: Peer,
) -> users.User:
    """In the write transaction: admit again (an invite may have been used
    meanwhile), then store the account made by ``users.prepare`` and mail a
    link to verify its address."""
    first, invite, email = await admit(stores, rules, account.email)
    user = await users.add(
        stores,
        dataclasses.replace(account, email=email),
        is_admin=first,
        actor_id=None,
        peer=peer,
        # Following the mailed link proves the address, as a verification
        # link would: the proof was only in that message.
        email_verified=invite is not None
        and invite_mail.proven(mailing, invite, rules.invite_proof),
    )
    if invite is not None and invite.org_id is not None:
        await orgs.join(stores, invite, user.id, peer)
    elif invite is not None:
        await invites.consume(stores, invite, user.id, peer)
    await verification.send(stores, mailing, user)
    return user
