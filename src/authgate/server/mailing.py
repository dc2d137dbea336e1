"""What the server's use cases need to queue mail: the queue's sealer (a key
derived for mail alone) and how links are made."""

from authgate.domain import verification
from authgate.errors import RateLimited
from authgate.server.services import Services

#: verification links one account may ask for again, per minute
RESENDS_PER_MINUTE = 3
TOO_OFTEN = "You asked for a link a moment ago; try again in a minute."


def mailing(services: Services) -> verification.Mailing:
    settings = services.settings
    return verification.Mailing(
        sealer=services.mail.sealer,
        token_prefix=settings.token_prefix,
        public_url=settings.issuer,
    )


async def resend_allowed(services: Services, user_id: str) -> None:
    """Refuse (429) an account asking for its verification link again too
    often: each one is a message to an address the account names, which
    need not be its owner's until verified."""
    if not services.settings.rate_limit_enabled:
        return
    wait = await services.limiter.hit("email-verification", user_id, RESENDS_PER_MINUTE)
    if wait is not None:
        raise RateLimited(TOO_OFTEN, retry_after=wait)
