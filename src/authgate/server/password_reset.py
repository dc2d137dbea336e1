"""Password reset by mailed link, as the API and the pages run it: the
limits, then ``domain.password_reset`` in one transaction.

Each request mails the address it names, so besides the per-client limit
(the caller's, ``web.deps.over_limit``) an address is limited on its own,
counted under a digest of it (the limiter's keys may sit in Redis): a flood
spread over many clients still cannot bury one mailbox.
"""

import hashlib

from authgate.domain import password_reset, users
from authgate.domain.context import Peer
from authgate.domain.users import User
from authgate.errors import InvalidRequest, RateLimited
from authgate.server.mailing import mailing
from authgate.server.services import Services

#: the limiter's bucket for each client's requests, page and API alike
BUCKET = "password-reset"
#: reset requests one address may get per minute
PER_ADDRESS_PER_MINUTE = 3
TOO_OFTEN = "A message went to that address a moment ago; try again in a minute."
NO_ADDRESS = "Enter the email address of your account."


def address_key(address: str) -> str:
    """What the per-address limit counts under: the normalised address's
    SHA-256, lower-cased whole since lookups ignore case."""
    return hashlib.sha256(address.lower().encode()).hexdigest()


async def ask(services: Services, raw: str, *, peer: Peer) -> None:
    """Queue the reset message for the address ``raw`` names (a link, or a
    note that no account here can be reset through it); refused only for an
    address that is not one, or asked for too often."""
    address = users.normalize_email(raw)
    if address is None:
        raise InvalidRequest(NO_ADDRESS)
    if services.settings.rate_limit_enabled:
        wait = await services.limiter.hit(
            f"{BUCKET}-address", address_key(address), PER_ADDRESS_PER_MINUTE
        )
        if wait is not None:
            raise RateLimited(TOO_OFTEN, retry_after=wait)
    async with services.db.transaction() as tx:
        await password_reset.request(tx, mailing(services), address, peer=peer)


async def reset(
    services: Services, token: str, new_password: str, *, peer: Peer
) -> User:
    """Set the new password with a link's token (used up only if the password
    is accepted); every session and OAuth login of the account ends."""
    settings = services.settings
    async with services.db.transaction() as tx:
        return await password_reset.reset(
            tx,
            services.hasher,
            services.mail.sealer,
            secret=token,
            new_password=new_password,
            min_length=settings.password_min_length,
            access_ttl=settings.jwt_expiry,
            peer=peer,
        )
