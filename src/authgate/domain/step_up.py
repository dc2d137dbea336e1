"""Step-up (RFC 9470): sensitive actions need a recent sign-in, with the
second factor when the person has one.

Who changes how an account signs in, or mints a credential that outlives the
session, must have proved who they are within ``AUTHGATE_STEP_UP_MAX_AGE``: a
session left open on a shared computer, or a stolen session cookie or access
token, then cannot be turned into a lasting credential or a new password.
Credentials that carry no sign-in of their own (a PAT, minted under such a
recent sign-in already; an API key) are judged by ``domain.authority`` alone.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from authgate.domain import assurance
from authgate.domain.assurance import Authentication
from authgate.errors import InsufficientUserAuthentication

STALE = "This needs a recent sign-in: confirm who you are again."
NO_FACTOR = "This needs a sign-in with your second factor: confirm who you are again."


@dataclass(frozen=True, slots=True)
class Shortfall:
    """What a sign-in lacks for a sensitive action."""

    max_age: int  #: seconds: the sign-in must be at most this old
    level: str | None  #: ``aal2`` when the second factor is what is missing

    def error(self) -> InsufficientUserAuthentication:
        return InsufficientUserAuthentication(
            NO_FACTOR if self.level else STALE,
            max_age=self.max_age,
            acr_values=self.level,
        )


def shortfall(
    authentication: Authentication | None,
    *,
    max_age: timedelta,
    has_factor: bool,
    now: datetime,
) -> Shortfall | None:
    """``None`` when ``authentication`` (``None``: the credential says none)
    is recent enough, and used the second factor if the person has one."""
    stale = authentication is None or now - authentication.at > max_age
    weak = has_factor and (
        authentication is None
        or not assurance.reaches(authentication.amr, assurance.TWO_FACTORS)
    )
    if not (stale or weak):
        return None
    return Shortfall(
        int(max_age.total_seconds()), assurance.TWO_FACTORS if weak else None
    )
