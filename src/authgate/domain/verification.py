"""Verified addresses: a person's address counts as theirs only once they
followed a link mailed to it.

A new account's address is stored unverified and a link is mailed to it. A
change of address does not take the new one at once: it waits in
``new_email`` while the old address (verified or not) stays in ``email``, so
an address is never swapped for one nobody proved, and the old one keeps
working (and hears of the change) until the link is followed. Following the
link moves the new address in (refused if another account took it
meanwhile) and tells the old address.

Other apps trust this state: it is the ``email_verified`` of ID tokens and
userinfo, and only a verified address links an upstream identity to an
account (``domain.identities``).
"""

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Protocol
from urllib.parse import urlencode

from authgate.domain import audit, email_tokens, mail, notices, users
from authgate.domain.context import Peer
from authgate.domain.email_tokens import Purpose
from authgate.domain.sealing import Sealer
from authgate.domain.users import User
from authgate.errors import Conflict, InvalidRequest
from authgate.util import clock

#: how long a verification link works
LINK_TTL = timedelta(hours=24)
#: the page a verification link opens (``web.pages.verify_email``)
PAGE = "/verify-email"

LINK_INVALID = (
    "This link does not work any more: it was used already, it expired (links "
    "last 24 hours), or a newer one was sent. Ask for a new one in Settings → "
    "Profile."
)
TAKEN_MEANWHILE = (
    "That address now belongs to another account, so it cannot become yours. "
    "Your account keeps its current address."
)
NOTHING_TO_VERIFY = "Your email address is verified already; there is nothing to send."
NO_ADDRESS = "Your account has no email address to verify; add one first."


@dataclass(frozen=True, slots=True)
class Mailing:
    """What a use case needs to mail a link."""

    sealer: Sealer  #: the mail queue's (``domain.mail``)
    token_prefix: str  #: ``AUTHGATE_TOKEN_PREFIX``
    public_url: str  #: the links' base, with no trailing slash


class Tx(users.Tx, notices.Tx, mail.Tx, email_tokens.Tx, Protocol): ...


def pending(user: User) -> str | None:
    """The address waiting to be verified: a new one asked for, else an
    unverified current one; ``None`` when there is none."""
    if user.new_email is not None:
        return user.new_email
    if user.email is not None and not user.email_verified:
        return user.email
    return None


async def send(stores: Tx, mailing: Mailing, user: User) -> str | None:
    """Mail a link to the address waiting (see :func:`pending`), which stops
    any earlier link working; the address, or ``None`` when nothing waits."""
    address = pending(user)
    if address is None:
        return None
    secret = await email_tokens.issue(
        stores,
        Purpose.VERIFY,
        user.id,
        address,
        LINK_TTL,
        prefix=mailing.token_prefix,
    )
    link = f"{mailing.public_url}{PAGE}?{urlencode({'token': secret})}"
    await mail.queue(
        stores,
        mailing.sealer,
        mail.Message(
            to=address,
            template="verify_email",
            values={
                "username": user.username,
                "email": address,
                "link": link,
                "changing": "yes" if address == user.new_email else "",
            },
        ),
    )
    return address


async def add_account(
    stores: Tx,
    mailing: Mailing,
    account: users.NewAccount,
    *,
    is_admin: bool,
    actor_id: str | None,
    peer: Peer,
    email_verified: bool = False,
) -> User:
    """An account an administrator makes: its address verified on their word
    (``email_verified``), else mailed a link like a registration's."""
    user = await users.add(
        stores,
        account,
        is_admin=is_admin,
        actor_id=actor_id,
        peer=peer,
        email_verified=email_verified,
    )
    await send(stores, mailing, user)
    return user


async def resend(stores: Tx, mailing: Mailing, user: User) -> str:
    """Mail the link again (a new one); refused when nothing waits."""
    address = await send(stores, mailing, user)
    if address is None:
        raise InvalidRequest(NOTHING_TO_VERIFY if user.email else NO_ADDRESS)
    return address


async def ask_for(
    stores: Tx, mailing: Mailing, user: User, address: str, *, peer: Peer
) -> None:
    """Ask for ``address`` (normalised, allowed, held by no other account) to
    become the person's: it waits for its link; ``email`` stays."""
    await stores.users.set_new_email(user.id, address)
    stores.invalidate(user.id)
    await audit.record(
        stores,
        audit.Action.EMAIL_CHANGE_REQUESTED,
        peer,
        actor_id=user.id,
        target_id=user.id,
        details={"email": address},
    )
    await send(stores, mailing, replace(user, new_email=address))


async def withdraw(stores: Tx, user: User) -> None:
    """Forget a new address asked for, and the link mailed to it."""
    if user.new_email is None:
        return
    await stores.users.set_new_email(user.id, None)
    await stores.email_tokens.discard(user.id, Purpose.VERIFY)
    stores.invalidate(user.id)


async def confirm(
    stores: Tx, notify: notices.Policy, secret: str, *, peer: Peer
) -> User:
    """Follow a verification link: the address it was mailed to is verified
    (and, for a change, becomes the account's; the old address is told when
    it was verified, ``domain.notices``). Refused
    with :data:`LINK_INVALID` for a link that is used, expired, superseded,
    made up, or mailed to an address the account no longer waits for."""
    token = await email_tokens.use(stores, Purpose.VERIFY, secret)
    user = await stores.users.get(token.user_id) if token else None
    if token is None or user is None:
        raise InvalidRequest(LINK_INVALID)
    now = clock.now()
    address = token.email
    if address == user.new_email:
        holder = await stores.users.by_email(address)
        if holder is not None and holder.id != user.id:
            raise Conflict(TAKEN_MEANWHILE)
        await stores.users.set_email(user.id, address, now)
        verified = replace(user, email=address, email_verified_at=now, new_email=None)
        await audit.record(
            stores,
            audit.Action.EMAIL_CHANGED,
            peer,
            actor_id=user.id,
            target_id=user.id,
        )
        # ``user`` as it was: the notice goes to the old address.
        await notices.send(
            stores,
            notify,
            notices.Kind.EMAIL_CHANGED,
            user,
            peer=peer,
            values={"old_email": user.email or "", "new_email": address},
        )
    elif address == user.email:
        await stores.users.set_email_verified(user.id, now)
        verified = replace(user, email_verified_at=now)
    else:
        raise InvalidRequest(LINK_INVALID)
    stores.invalidate(user.id)
    await audit.record(
        stores,
        audit.Action.EMAIL_VERIFIED,
        peer,
        actor_id=user.id,
        target_id=user.id,
        details={"email": address},
    )
    return verified
