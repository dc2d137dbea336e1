"""A signed-in person changing their own account: email address and password.

A new email address waits for its verification link to be followed
(``domain.verification``); the current one stays until then.

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
from typing import Protocol

from authgate.domain import audit, lockout, notices, sessions, users, verification
from authgate.domain.allowlist import OPEN, Allowlist
from authgate.domain.context import Peer
from authgate.domain.email_tokens import Purpose
from authgate.domain.passwords import Hasher
from authgate.domain.users import User, UserStore, normalize_email
from authgate.errors import Conflict, Forbidden, InvalidCredentials, RateLimited
from authgate.util import clock

WRONG_PASSWORD = "The current password is wrong."  # noqa: S105 - a message
TAKEN = "That email address belongs to another account."
RECHECKS_LOCKED = "Too many wrong passwords for this account; try again later."


@dataclass(frozen=True, slots=True)
class Confirmed:
    """Proof that ``user`` gave their current password, asked again before a
    change a session left open must not make on its own."""

    user: User


class Tx(verification.Tx, Protocol):
    @property
    def users(self) -> UserStore: ...


def recheck_key(user_id: str) -> str:
    """The lockout counter of an account's password re-checks: apart from its
    sign-in counter (keyed by username, which never holds a colon), so a
    stranger's failed sign-ins do not block the person's own settings."""
    return f"recheck:{user_id}"


async def check_recheck_open(stores: Tx, user_id: str) -> None:
    """Refuse (429) while the account's password re-checks are locked.

    A stolen session must not become a password oracle: every guess at the
    current password costs the account one of ``max_login_attempts`` failures
    per lockout window, whichever addresses the guesses come from."""
    failures = await stores.lockout.find(recheck_key(user_id))
    if failures is not None and failures.locked_until and failures.locked():
        raise RateLimited(
            RECHECKS_LOCKED, retry_after=clock.seconds_until(failures.locked_until)
        )


async def confirm_password(hasher: Hasher, user: User, password: str) -> Confirmed:
    """Check the password, with no transaction open; :class:`InvalidCredentials`
    if wrong."""
    if not await hasher.verify(user.password_hash, password):
        raise InvalidCredentials(WRONG_PASSWORD)
    return Confirmed(user)


async def recheck_failed(
    stores: Tx, policy: lockout.Policy, user: User, *, peer: Peer
) -> None:
    """Count and audit a wrong password given to a re-check, in its own
    transaction (the request that made it fails)."""
    locked = await lockout.record_failure(stores, policy, recheck_key(user.id))
    await audit.record(
        stores,
        audit.Action.PASSWORD_RECHECK_FAILED,
        peer,
        actor_id=user.id,
        target_id=user.id,
    )
    if locked:
        await audit.record(
            stores,
            audit.Action.ACCOUNT_LOCKED,
            peer,
            target_id=user.id,
            details={"username": user.username, "reason": "password_recheck"},
        )


async def reconfirm(stores: Tx, confirmed: Confirmed) -> User:
    """The user again, inside the write transaction: refused as a wrong
    password if the password changed (or the account went) since the check,
    and refused while re-checks are locked (a right guess racing wrong ones
    still loses once they have locked the account). A right password used
    restarts the count of wrong ones."""
    user = await stores.users.get(confirmed.user.id)
    if user is None or user.password_hash != confirmed.user.password_hash:
        raise InvalidCredentials(WRONG_PASSWORD)
    await check_recheck_open(stores, user.id)
    await stores.lockout.clear(recheck_key(user.id))
    return user


async def change_email(
    stores: Tx,
    mailing: verification.Mailing,
    user: User,
    email: str | None,
    *,
    peer: Peer,
    allowlist: Allowlist = OPEN,
) -> str | None:
    """Ask for a new address (a link is mailed to it; the current one stays
    until it is followed), go back to the current one (a new one asked for is
    forgotten), or, with an empty value, remove the address; the address a
    link went to, or ``None``. The instance's allowlist
    (``AUTHGATE_SIGNIN_ALLOWED_EMAILS``) holds here as at registration, so a
    listed address cannot be swapped for another. Two accounts never share an
    address, whatever its case."""
    address = normalize_email(email)
    if not allowlist.allows(address):
        raise Forbidden("This instance needs an address on its list of allowed ones.")
    if address == user.email:
        await verification.withdraw(stores, user)
        return None
    if address is None:
        await stores.users.set_email(user.id, None, None)
        await stores.email_tokens.discard(user.id, Purpose.VERIFY)
        stores.invalidate(user.id)
        await audit.record(
            stores,
            audit.Action.EMAIL_CHANGED,
            peer,
            actor_id=user.id,
            target_id=user.id,
        )
        return None
    holder = await stores.users.by_email(address)
    if holder is not None and holder.id != user.id:
        raise Conflict(TAKEN)
    await verification.ask_for(stores, mailing, user, address, peer=peer)
    return address


async def change_password(
    stores: Tx,
    confirmed: Confirmed,
    new_hash: str,
    *,
    session_id: str | None,
    access_ttl: timedelta,
    peer: Peer,
    notify: notices.Policy,
) -> list[str]:
    """Store the new hash (made by ``users.hash_password``) and end every login
    but the session ``session_id`` (the one asking): other sessions and every
    OAuth grant; the ids of the sessions ended. The person is told by mail
    (``domain.notices``), so a change they did not make is seen."""
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
            peer=peer,
        )
    ).sessions
    await audit.record(
        stores,
        audit.Action.PASSWORD_CHANGED,
        peer,
        actor_id=user.id,
        target_id=user.id,
        details={"sessions_ended": len(ended)},
    )
    await notices.send(
        stores,
        notify,
        notices.Kind.PASSWORD_CHANGED,
        user,
        peer=peer,
        values={"by_admin": ""},
    )
    return ended


async def replace_password(
    stores: Tx,
    notify: notices.Policy,
    user: User,
    password_hash: str,
    *,
    actor_id: str | None,
    access_ttl: timedelta,
    peer: Peer,
) -> None:
    """A password set for the person, not by them typing the old one (an
    administrator's reset): ``users.replace_password``, and the person told
    (``domain.notices``), so a reset they did not ask for is seen."""
    await users.replace_password(
        stores,
        user,
        password_hash,
        actor_id=actor_id,
        access_ttl=access_ttl,
        peer=peer,
    )
    await notices.send(
        stores,
        notify,
        notices.Kind.PASSWORD_CHANGED,
        user,
        peer=peer,
        values={"by_admin": "yes" if actor_id != user.id else ""},
    )
