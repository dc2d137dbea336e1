"""Resetting a forgotten password through a link mailed to the account's
verified address.

Asking never tells whether an address belongs to an account: every request
queues one message to the address given, so the answer, the work done and
what arrives in someone else's mailbox all look alike. An active account
whose address is verified gets a single-use link (``email_tokens``, 30
minutes, a new one voiding the older); any other address hears that someone
asked but no account here can be reset through it (as Ory Kratos does). An
unverified address never gets a link: a mistyped one would hand the account
to a stranger.

Following the link changes nothing by itself (mail scanners fetch links); the
form it opens sets the new password, which ends every session and OAuth
login and tells the address (:func:`replace`, which a recovery key's reset
shares).
"""

from datetime import timedelta
from typing import Protocol
from urllib.parse import urlencode

from authgate.domain import audit, email_tokens, mail, users
from authgate.domain.context import Peer
from authgate.domain.email_tokens import Purpose
from authgate.domain.passwords import Hasher, check_policy
from authgate.domain.sealing import Sealer
from authgate.domain.users import User
from authgate.domain.verification import Mailing
from authgate.errors import InvalidRequest
from authgate.util import tokens

#: how long a reset link works
LINK_TTL = timedelta(minutes=30)
#: the page a reset link opens (``web.pages.reset``)
PAGE = "/reset"

#: no account's id (ids are 32 characters): whose links an unknown address drops
NOBODY = "-"

LINK_INVALID = (
    "This link does not work any more: it was used already, it expired (links "
    "last 30 minutes), or a newer one was sent. Ask for a new one on the "
    "“Forgot your password?” page."
)


class Tx(users.Tx, mail.Tx, email_tokens.Tx, Protocol): ...


def resettable(user: User | None) -> bool:
    """Whether a link may go to this account's address: it is active and its
    address was proved to be its owner's."""
    return user is not None and user.active and user.email_verified


async def request(stores: Tx, mailing: Mailing, address: str, *, peer: Peer) -> None:
    """Queue the message for a reset asked for ``address`` (normalised): a
    link when it is the verified address of an active account, else a note
    that no account here can be reset through it. Same steps either way."""
    user = await stores.users.by_email(address)
    known = user if resettable(user) else None
    if known is not None and known.email is not None:
        # To the address as the account holds it, not as typed.
        address = known.email
        secret = await email_tokens.issue(
            stores,
            Purpose.RESET,
            known.id,
            address,
            LINK_TTL,
            prefix=mailing.token_prefix,
        )
        link = f"{mailing.public_url}{PAGE}?{urlencode({'token': secret})}"
        message = mail.Message(
            to=address,
            template="reset_password",
            values={"username": known.username, "link": link},
        )
    else:
        await _as_if_issued(stores, mailing)
        message = mail.Message(
            to=address,
            template="reset_unknown",
            values={"email": address},
        )
    await mail.queue(stores, mailing.sealer, message)
    await audit.record(
        stores,
        audit.Action.PASSWORD_RESET_REQUESTED,
        peer,
        target_id=known.id if known else None,
        details={"email": address},
    )


async def _as_if_issued(stores: Tx, mailing: Mailing) -> None:
    """The two statements issuing a link costs (drop the older, add the new),
    matching nothing: without them an unknown address is answered measurably
    sooner (an insert is most of the difference)."""
    await stores.email_tokens.discard(NOBODY, Purpose.RESET)
    await email_tokens.use(
        stores, Purpose.RESET, tokens.mint(mailing.token_prefix, email_tokens.KIND)
    )


async def reset(
    stores: Tx,
    hasher: Hasher,
    sealer: Sealer,
    *,
    secret: str,
    new_password: str,
    min_length: int,
    access_ttl: timedelta,
    peer: Peer,
) -> User:
    """Follow a reset link's form: the link is used up and the password set
    (:func:`replace`). Refused with :data:`LINK_INVALID` for a link used,
    expired, superseded or made up, or whose account is disabled or no longer
    has that verified address. A password breaking the policy is refused
    before the link is used, and with the username once it is known, which
    rolls the use back with the caller's transaction."""
    check_policy(new_password, min_length=min_length)
    token = await email_tokens.use(stores, Purpose.RESET, secret)
    user = await stores.users.get(token.user_id) if token else None
    if (
        token is None
        or user is None
        or not resettable(user)
        or (user.email or "").lower() != token.email.lower()
    ):
        raise InvalidRequest(LINK_INVALID)
    await replace(
        stores,
        hasher,
        sealer,
        user,
        new_password,
        min_length=min_length,
        access_ttl=access_ttl,
        peer=peer,
    )
    await audit.record(
        stores,
        audit.Action.PASSWORD_RESET_USED,
        peer,
        actor_id=user.id,
        target_id=user.id,
    )
    return user


async def replace(
    stores: Tx,
    hasher: Hasher,
    sealer: Sealer,
    user: User,
    new_password: str,
    *,
    min_length: int,
    access_ttl: timedelta,
    peer: Peer,
) -> None:
    """Set a forgotten password proved by a link or a recovery key: every
    session and OAuth login ends, and a verified address hears of it, so an
    owner who did not ask learns at once. Hashed inside the transaction: only
    a valid, single-use proof gets this far, so no caller can hold the write
    lock at will."""
    password_hash = await users.hash_password(
        hasher, new_password, username=user.username, min_length=min_length
    )
    await users.replace_password(
        stores,
        user,
        password_hash,
        actor_id=user.id,
        access_ttl=access_ttl,
        peer=peer,
    )
    if user.email is not None and user.email_verified:
        await mail.queue(
            stores,
            sealer,
            mail.Message(
                to=user.email,
                template="password_changed",
                values={"username": user.username},
            ),
        )
