"""A signed-in person changing their own account: email address and password.

Changing the password asks for the current one (a session left open on a
shared computer is not enough) and, in the same transaction as the new hash,
ends every other login of the person (sessions and OAuth grants): whoever
else was signed in is out, while the person stays signed in where they made
the change.

Passwords are checked and hashed before the write transaction opens (on
SQLite it holds the database's write lock, and an argon2 verification takes
~40 ms): :func:`confirm_password` gives a :class:`Confirmed`, and the write
that needs it re-reads the user and holds only if the password is still the
one checked.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from authgate.domain import audit, sessions
from authgate.domain.allowlist import OPEN, Allowlist
from authgate.domain.context import ClientInfo
from authgate.domain.passwords import Hasher
from authgate.domain.users import User, normalize_email
from authgate.errors import Conflict, Forbidden, InvalidCredentials

if TYPE_CHECKING:
    from authgate.domain.stores import Stores

WRONG_PASSWORD = "The current password is wrong."  # noqa: S105 - a message
TAKEN = "That email address belongs to another account."


@dataclass(frozen=True, slots=True)
class Confirmed:
    """Proof that ``user`` gave their current password, asked again before a
    change a session left open must not make on its own."""

    user: User


async def confirm_password(hasher: Hasher, user: User, password: str) -> Confirmed:
    """Check the password, with no transaction open; :class:`InvalidCredentials`
    if wrong."""
    if not await hasher.verify(user.password_hash, password):
        raise InvalidCredentials(WRONG_PASSWORD)
    return Confirmed(user)


async def reconfirm(stores: "Stores", confirmed: Confirmed) -> User:
    """The user again, inside the write transaction: refused as a wrong
    password if the password changed (or the account went) since the check."""
    user = await stores.users.get(confirmed.user.id)
    if user is None or user.password_hash != confirmed.user.password_hash:
        raise InvalidCredentials(WRONG_PASSWORD)
    return user


async def change_email(
    stores: "Stores",
    user: User,
    email: str | None,
    *,
    client: ClientInfo,
    allowlist: Allowlist = OPEN,
) -> str | None:
    """Set (or, with an empty value, remove) the address; the one kept. The
    instance's allowlist (``AUTHGATE_SIGNIN_ALLOWED_EMAILS``) holds here as at
    registration, so a listed address cannot be swapped for another. Two
    accounts never share an address, whatever its case."""
    address = normalize_email(email)
    if not allowlist.allows(address):
        raise Forbidden("This instance needs an address on its list of allowed ones.")
    if address == user.email:
        return address
    holder = await stores.users.by_email(address) if address else None
    if holder is not None and holder.id != user.id:
        raise Conflict(TAKEN)
    await stores.users.set_email(user.id, address)
    stores.invalidate(user.id)
    await audit.record(
        stores,
        audit.Action.EMAIL_CHANGED,
        client,
        actor_id=user.id,
        target_id=user.id,
    )
    return address


async def change_password(
    stores: "Stores",
    confirmed: Confirmed,
    new_hash: str,
    *,
    session_id: str | None,
    access_ttl: timedelta,
    client: ClientInfo,
) -> list[str]:
    """Store the new hash (made by ``users.hash_password``) and end every login
    but the session ``session_id`` (the one asking): other sessions and every
    OAuth grant; the ids of the sessions ended."""
    user = await reconfirm(stores, confirmed)
    await stores.users.set_password_hash(user.id, new_hash)
    stores.invalidate(user.id)
    ended = (
        await sessions.end_logins(
            stores,
            user.id,
            keep=session_id,
            reason="password_changed",
            actor_id=user.id,
            access_ttl=access_ttl,
            client=client,
        )
    ).sessions
    await audit.record(
        stores,
        audit.Action.PASSWORD_CHANGED,
        client,
        actor_id=user.id,
        target_id=user.id,
        details={"sessions_ended": len(ended)},
    )
    return ended
