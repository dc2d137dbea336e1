"""How a person proved who they are, as tokens say it.

``amr`` (OIDC Core §2, values from RFC 8176) names the methods; ``acr`` names
the level they reach. Authgate has two levels, after NIST SP 800-63B's
authenticator assurance levels: one factor, or two (a password and a code, or
a passkey, which is something held and unlocked by something known or
inherent). A client asks for the second with ``acr_values`` (OIDC Core
§3.1.2.1), a resource server demands it with RFC 9470's challenge.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

PWD = "pwd"  # noqa: S105 -: RFC 8176 "password", not one
OTP = "otp"  #: a one-time code: an authenticator app's, or a recovery code
HWK = "hwk"  #: a key bound to its device (security key, device-bound passkey)
SWK = "swk"  #: a key that may leave its device (a synced passkey)
USER = "user"  #: the authenticator checked the person was there (WebAuthn UP)
PIN = "pin"  #: ... and unlocked by a PIN or biometrics (WebAuthn UV)
MFA = "mfa"  #: more than one factor

ONE_FACTOR = "aal1"
TWO_FACTORS = "aal2"
#: what ``acr_values`` may ask for, weakest first (the discovery document lists them)
LEVELS = (ONE_FACTOR, TWO_FACTORS)


def acr(amr: tuple[str, ...]) -> str:
    """The level these methods reach."""
    return TWO_FACTORS if MFA in amr else ONE_FACTOR


def reaches(amr: tuple[str, ...], level: str) -> bool:
    """Whether an authentication by ``amr`` satisfies ``level`` (an unknown
    level is not reached)."""
    return level in LEVELS and LEVELS.index(acr(amr)) >= LEVELS.index(level)


def parse(text: str | None) -> tuple[str, ...]:
    """Methods stored as space-separated text."""
    return tuple(text.split()) if text else ()


@dataclass(frozen=True, slots=True)
class Authentication:
    """One proof of who the person is, as a session, a code or a refresh
    family records it, so the tokens issued later say it (OIDC Core §2)."""

    at: datetime
    amr: tuple[str, ...] = ()

    @property
    def acr(self) -> str:
        return acr(self.amr)

    def claims(self) -> dict[str, Any]:
        """``auth_time`` (seconds), ``amr`` (left out when the sign-in proved
        nothing Authgate can name, as an upstream one) and ``acr``."""
        return {
            "auth_time": int(self.at.timestamp()),
            **({"amr": list(self.amr)} if self.amr else {}),
            "acr": self.acr,
        }
