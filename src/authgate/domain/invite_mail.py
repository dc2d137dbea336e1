"""Invites by email: an invite given an address is mailed to it, and the
mailed link is what proves that address.

The code alone proves nothing about the address: whoever made the invite sees
it too (the API and the pages show it once, so it can be passed on by hand).
So the mailed link carries, beside the code, a proof: a ticket sealed under
the mail key for this invite and this address, which only the message holds.
An account registered through the link (code and proof) gets the invited
address verified on the spot; one registered with the code alone gets it
unverified, and a link to verify it, as any new account. Without the proof an
inviter could otherwise make an account with a stranger's address counted as
verified, and so take over that person's later upstream sign-in
(``domain.identities`` links by verified address).

An account that already exists accepts only with the invited address as its
verified one (``invites.check_acceptor``).
"""

from datetime import timedelta
from typing import Protocol
from urllib.parse import urlencode

from authgate.domain import invites, mail, users, verification
from authgate.domain.context import Peer
from authgate.domain.invites import Invite
from authgate.util import clock

#: the page an instance invite's link opens (``web.pages.register``)
REGISTER_PAGE = "/register"
#: the page an org invite's link opens (``web.pages.orgs``)
ACCEPT_PAGE = "/settings/orgs/accept"
#: what a proof is sealed for
_PURPOSE = "invite-mail"
#: how long the proof of an invite that never expires holds
NO_EXPIRY_PROOF = timedelta(days=invites.MAX_DAYS)


class Tx(invites.Tx, users.Tx, mail.Tx, Protocol): ...


def register_link(public_url: str, code: str, proof: str | None = None) -> str:
    query = {"invite": code} | ({"proof": proof} if proof else {})
    return f"{public_url}{REGISTER_PAGE}?{urlencode(query)}"


def accept_link(public_url: str, code: str) -> str:
    return f"{public_url}{ACCEPT_PAGE}?{urlencode({'code': code})}"


def proof_for(mailing: verification.Mailing, invite: Invite) -> str:
    """The proof the message to ``invite.email`` carries."""
    expires = invite.expires_at
    ttl = expires - clock.now() if expires else NO_EXPIRY_PROOF
    return mailing.sealer.ticket(
        _PURPOSE, {"invite": invite.id, "email": invite.email}, ttl
    )


def proven(mailing: verification.Mailing, invite: Invite, proof: str | None) -> bool:
    """Whether ``proof`` came in the message mailed for ``invite``, to its
    address (sealed, so it cannot be forged or moved to another invite)."""
    if not proof or invite.email is None:
        return False
    ticket = mailing.sealer.open_ticket(_PURPOSE, proof)
    return (
        ticket is not None
        and ticket.data.get("invite") == invite.id
        and ticket.data.get("email") == invite.email
    )


async def send(
    stores: Tx,
    mailing: verification.Mailing,
    invite: Invite,
    code: str,
    *,
    org_name: str | None = None,
    accounts: bool = False,
) -> None:
    """Queue the invite's message, in the caller's transaction; nothing for
    an invite with no address. ``accounts``: an org invite may create the
    account (``AUTHGATE_ORG_INVITES_CREATE_ACCOUNTS``), so the message also
    links to registering."""
    if invite.email is None:
        return
    inviter = await stores.users.get(invite.created_by) if invite.created_by else None
    proof = proof_for(mailing, invite)
    values = {
        "email": invite.email,
        "inviter": inviter.username if inviter else "",
        "expires": invite.expires_at.strftime("%Y-%m-%d %H:%M UTC")
        if invite.expires_at
        else "",
    }
    if invite.org_id is None:
        values["link"] = register_link(mailing.public_url, code, proof)
        template = "invite"
    else:
        values |= {
            "org": org_name or "",
            "role": invite.role or "",
            "link": accept_link(mailing.public_url, code),
            "register_link": register_link(mailing.public_url, code, proof)
            if accounts
            else "",
        }
        template = "org_invite"
    await mail.queue(
        stores, mailing.sealer, mail.Message(invite.email, template, values)
    )


async def create(
    stores: Tx,
    mailing: verification.Mailing,
    *,
    created_by: str | None,
    expires_in_days: int | None,
    email: str | None,
    peer: Peer,
) -> tuple[Invite, str]:
    """An instance invite, mailed to ``email`` when one is given."""
    invite, code = await invites.create(
        stores,
        prefix=mailing.token_prefix,
        created_by=created_by,
        expires_in_days=expires_in_days,
        peer=peer,
        email=users.normalize_email(email),
    )
    await send(stores, mailing, invite, code)
    return invite, code
