"""What the running server adds to ``domain.passkeys``: itself as the relying
party (from ``AUTHGATE_PUBLIC_URL``) and the key its ceremony tickets are
sealed with, and adding a passkey in one transaction, for the API and the
Settings page alike."""

from typing import Any

from authgate.domain import passkeys
from authgate.domain.context import Peer
from authgate.domain.passkeys import Passkey, RelyingParty
from authgate.domain.sealing import Sealer
from authgate.errors import InvalidRequest
from authgate.server.services import Services

#: The relying party's name, shown by the browser's passkey dialog.
RP_NAME = "Authgate"
#: Why there are no passkeys here, for the pages and the API alike.
UNAVAILABLE = (
    "Passkeys are not available on this server: browsers allow them only on a "
    "site reached by a domain name (such as localhost or id.example.com), and "
    "this server's public URL is an IP address. An administrator can set "
    "AUTHGATE_PUBLIC_URL to a name."
)


def relying_party(services: Services) -> RelyingParty | None:
    return passkeys.relying_party(services.settings.issuer, RP_NAME)


def required_relying_party(services: Services) -> RelyingParty:
    """The relying party, or the 400 that explains why there is none."""
    rp = relying_party(services)
    if rp is None:
        raise InvalidRequest(UNAVAILABLE)
    return rp


def sealer(services: Services) -> Sealer:
    """Seals the tickets of every WebAuthn ceremony (each names its purpose)."""
    return Sealer(services.derived_key("webauthn"))


async def begin_registration(
    services: Services, *, user_id: str, username: str
) -> passkeys.Ceremony:
    rp = required_relying_party(services)
    async with services.db.read() as tx:
        existing = await passkeys.listed(tx, user_id)
    return passkeys.begin_registration(
        sealer(services), rp, user_id=user_id, username=username, existing=existing
    )


async def add(
    services: Services,
    *,
    user_id: str,
    ticket: str,
    credential: dict[str, Any],
    name: str,
    peer: Peer,
) -> Passkey:
    """Add the passkey a browser just made. (At the merge of #18: a person's
    first factor also gets their recovery codes here, in this transaction.)"""
    rp = required_relying_party(services)
    async with services.db.transaction() as tx:
        return await passkeys.register(
            tx,
            sealer(services),
            rp,
            user_id=user_id,
            ticket=ticket,
            credential=credential,
            name=name,
            peer=peer,
        )
