"""Which token a command uses, and where it came from.

Precedence (first match wins): ``--token``, ``AUTHGATE_TOKEN``, the static
``auth_token`` in credentials.json, then the stored OAuth access token
(refreshed with its refresh token once expired).
"""

import os
import time

TYPE_CHECKING = False  # typing itself is too slow an import for the CLI
if TYPE_CHECKING:
    from typing import Any, Literal

    from authgate.client._credentials import CredentialsFile

    Source = Literal["flag", "env", "static", "oauth"]

#: How ``auth status`` names each source.
SOURCE_LABELS: dict[str, str] = {
    "flag": "--token flag",
    "env": "AUTHGATE_TOKEN",
    "static": "Static token",
    "oauth": "OAuth",
}
#: Refresh this many seconds before the access token's expiry.
EXPIRY_MARGIN = 30


class ResolvedToken:
    """A token and where it came from. (A plain class, not a dataclass:
    ``dataclasses`` imports ``inspect``, which alone costs the CLI's start-up
    budget.)"""

    __slots__ = ("expires_at", "source", "token")

    def __init__(
        self, token: str, source: "Source", expires_at: float | None = None
    ) -> None:
        self.token = token
        self.source = source
        self.expires_at = expires_at

    @property
    def expired(self) -> bool:
        return (
            self.expires_at is not None
            and self.expires_at <= time.time() + EXPIRY_MARGIN
        )

    @property
    def masked(self) -> str:
        return mask(self.token)


def mask(token: str) -> str:
    """First and last four characters: enough to recognise, useless to steal."""
    return f"{token[:4]}...{token[-4:]}" if len(token) > 12 else "****"


def jwt_expiry(token: str) -> float | None:
    """``exp`` of a JWT, read without verifying (only to decide when to refresh)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    import base64
    import json

    try:
        payload = json.loads(
            base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        )
    except ValueError:
        return None
    exp = payload.get("exp") if isinstance(payload, dict) else None
    return float(exp) if isinstance(exp, int | float) else None


def resolve(
    server: str, flag: str | None, credentials: "CredentialsFile"
) -> ResolvedToken | None:
    if flag:
        return ResolvedToken(flag, "flag", jwt_expiry(flag))
    env = os.environ.get("AUTHGATE_TOKEN")
    if env:
        return ResolvedToken(env, "env", jwt_expiry(env))
    entry: dict[str, Any] = credentials.entry(server)
    if entry.get("auth_token"):
        token = str(entry["auth_token"])
        return ResolvedToken(token, "static", jwt_expiry(token))
    if entry.get("access_token"):
        expires = entry.get("expires_at")
        return ResolvedToken(
            str(entry["access_token"]),
            "oauth",
            float(expires) if isinstance(expires, int | float) else None,
        )
    return None
