"""Who may create an account: the first person (who becomes the administrator),
anyone with an invite code, or anyone at all when registration is open; and,
when ``AUTHGATE_SIGNIN_ALLOWED_EMAILS`` is set, only with an allowed address.

An organization invite is also a way in: registering with one creates the
account for the invited address and joins the organization in the same step.
"""

import dataclasses
from typing import TYPE_CHECKING

from authgate.domain import invites, orgs, users
from authgate.domain.allowlist import OPEN, Allowlist
from authgate.domain.context import ClientInfo
from authgate.errors import Forbidden, SignInRefused

if TYPE_CHECKING:
    from authgate.domain.stores import Stores


@dataclasses.dataclass(frozen=True, slots=True)
class Rules:
    """This instance's rules for one registration attempt."""

    invite_code: str | None
    allow_registration: bool
    allowlist: Allowlist = OPEN


async def admit(
    stores: "Stores", rules: Rules, email: str | None
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
    if invite is None and not first and not rules.allow_registration:
        raise Forbidden("Registration needs an invite code.")
    if invite is not None and invite.org_id is not None:
        address = users.normalize_email(email)
        if address is not None and address.lower() != (invite.email or "").lower():
            raise Forbidden("This invite was sent to another email address.")
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
    stores: "Stores", account: users.NewAccount, rules: Rules, *, client: ClientInfo
) -> users.User:
    """In the write transaction: admit again (an invite may have been used
    meanwhile), then store the account made by ``users.prepare``."""
    first, invite, email = await admit(stores, rules, account.email)
    user = await users.add(
        stores,
        dataclasses.replace(account, email=email),
        is_admin=first,
        actor_id=None,
        client=client,
    )
    if invite is not None and invite.org_id is not None:
        await orgs.join(stores, invite, user.id, client)
    elif invite is not None:
        await invites.consume(stores, invite, user.id, client)
    return user
