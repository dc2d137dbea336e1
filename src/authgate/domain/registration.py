"""Who may create an account: the first person (who becomes the administrator),
anyone with an invite code, or anyone at all when registration is open; and,
when ``AUTHGATE_SIGNIN_ALLOWED_EMAILS`` is set, only with an allowed address.

An organization invite is also a way in: registering with one creates the
account for the invited address and joins the organization in the same step.
"""

from typing import TYPE_CHECKING

from authgate.domain import invites, orgs, users
from authgate.domain.allowlist import OPEN, Allowlist
from authgate.domain.context import ClientInfo
from authgate.domain.passwords import Hasher
from authgate.errors import Forbidden, SignInRefused

if TYPE_CHECKING:
    from authgate.domain.stores import Stores


async def register(
    stores: "Stores",
    hasher: Hasher,
    *,
    username: str,
    password: str,
    email: str | None,
    invite_code: str | None,
    allow_registration: bool,
    min_length: int,
    client: ClientInfo,
    allowlist: Allowlist = OPEN,
) -> users.User:
    first = await stores.users.count() == 0
    invite = await invites.find_usable(stores, invite_code) if invite_code else None
    if invite is None and not first and not allow_registration:
        raise Forbidden("Registration needs an invite code.")
    if invite is not None and invite.org_id is not None:
        address = users.normalize_email(email)
        if address is not None and address.lower() != (invite.email or "").lower():
            raise Forbidden("This invite was sent to another email address.")
        email = invite.email
    if not allowlist.allows(users.normalize_email(email)):
        # AUTHGATE_SIGNIN_ALLOWED_EMAILS holds for local accounts as for
        # upstream ones, the first (administrator) account included.
        raise SignInRefused(
            "email_not_allowed",
            "Registration here needs an email address on the instance's list of "
            "allowed addresses.",
        )
    user = await users.create(
        stores,
        hasher,
        username=username,
        password=password,
        email=email,
        is_admin=first,
        min_length=min_length,
        actor_id=None,
        client=client,
    )
    if invite is not None and invite.org_id is not None:
        await orgs.join(stores, invite, user.id, client)
    elif invite is not None:
        await invites.consume(stores, invite, user.id, client)
    return user
