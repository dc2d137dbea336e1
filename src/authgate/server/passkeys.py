"""What the running server adds to ``domain.passkeys``: itself as the relying
party (from ``AUTHGATE_PUBLIC_URL``) and the key its ceremony tickets are
sealed with, and adding and removing a passkey in one transaction each, as a
second factor (``domain.factors``), for the API and the Settings page alike."""

from dataclasses import dataclass
from typing import Any

from authgate.domain import factors, notices, passkeys
from authgate.domain.context import Peer
from authgate.domain.passkeys import Passkey, RelyingParty
from authgate.domain.sealing import Sealer
from authgate.errors import InvalidRequest
from authgate.server import second_factors
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
    return Sealer(*services.derived_keys("webauthn"))


async def begin_registration(
    services: Services, *, user_id: str, username: str
) -> passkeys.Ceremony:
    rp = required_relying_party(services)
    async with services.db.read() as tx:
        existing = await passkeys.listed(tx, user_id)
    return passkeys.begin_registration(
        sealer(services), rp, user_id=user_id, username=username, existing=existing
    )


@dataclass(frozen=True, slots=True)
class Added:
    passkey: Passkey
    #: the recovery codes that come with a first factor (shown once), else ``None``
    recovery_codes: list[str] | None


async def add(
    services: Services,
    *,
    user_id: str,
    ticket: str,
    credential: dict[str, Any],
    name: str,
    peer: Peer,
) -> Added:
    """Add the passkey a browser just made; as the person's first factor, with
    their recovery codes, in the same transaction."""
    rp = required_relying_party(services)
    async with services.db.transaction() as tx:
        had = await factors.has_factor(tx, user_id)
        passkey = await passkeys.register(
            tx,
            sealer(services),
            rp,
            user_id=user_id,
            ticket=ticket,
            credential=credential,
            name=name,
            peer=peer,
        )
        codes = await factors.enrolled(
            tx, services.factor_keys, user_id=user_id, first=not had, peer=peer
        )
        await second_factors.tell(
            services, tx, notices.Kind.FACTOR_ADDED, user_id, factors.WEBAUTHN, peer
        )
    return Added(passkey, codes)


async def remove(
    services: Services, *, user_id: str, passkey_id: str, peer: Peer
) -> None:
    """Remove one of the person's passkeys; the last factor takes the recovery
    codes with it."""
    async with services.db.transaction() as tx:
        await factors.remove_passkey(
            tx, user_id=user_id, passkey_id=passkey_id, peer=peer
        )
        await second_factors.tell(
            services, tx, notices.Kind.FACTOR_REMOVED, user_id, factors.WEBAUTHN, peer
        )
