"""Scopes (RFC 6749 §3.3): what a client asks for, what it may have.

The vocabulary: the API's ``read``, ``write`` and ``admin`` (what a personal
access token can hold) and OpenID Connect's ``openid``, ``profile`` and
``email``. A client registered with a ``scope`` may ask for those only;
``admin`` only a client an administrator registered. No ``scope`` asks for
``read`` and ``write``, as far as the client may have them (RFC 6749 §3.3 lets
the server pick a default), never ``admin``.
"""

from authgate.domain.clients import (
    ADMIN_SCOPE,
    ADMIN_SCOPE_REFUSED,
    OIDC_SCOPES,
    SUPPORTED_SCOPES,
    Client,
)
from authgate.domain.personal_tokens import DEFAULT_SCOPES
from authgate.oauth.errors import InvalidScope

_SCOPE_TOKEN = frozenset(
    "!#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`"
    "abcdefghijklmnopqrstuvwxyz{|}~"
)


def parse(raw: str | None) -> tuple[str, ...]:
    if raw is None:
        return ()
    found = tuple(dict.fromkeys(raw.split(" ")))
    if any(not s or not set(s) <= _SCOPE_TOKEN for s in found):
        # RFC 6749 §3.3: scope-tokens of %x21 / %x23-5B / %x5D-7E, space-separated.
        raise InvalidScope("The scope is not a space-separated list of scope tokens.")
    return found


def requested(
    client: Client, raw: str | None, *, for_user: bool = True
) -> tuple[str, ...]:
    """The scopes a new grant asks for, checked against what the client may
    have; ``for_user=False`` (client credentials) refuses the OIDC scopes,
    which describe a user."""
    allowed = client.allowed_scopes()
    asked = parse(raw)
    if not asked:
        asked = tuple(s for s in DEFAULT_SCOPES if s in allowed)
        if not asked:
            raise InvalidScope("Name the scope you need.")
    unknown = [s for s in asked if s not in SUPPORTED_SCOPES]
    if unknown:
        raise InvalidScope(f"Unknown scope: {' '.join(unknown)}.")
    refused = [s for s in asked if s not in allowed]
    if ADMIN_SCOPE in refused and client.registration != "admin":
        raise InvalidScope(ADMIN_SCOPE_REFUSED)
    if refused:
        raise InvalidScope(f"This client may not ask for: {' '.join(refused)}.")
    if not for_user and any(s in OIDC_SCOPES for s in asked):
        raise InvalidScope("OpenID scopes describe a user; this grant has none.")
    if not for_user and ADMIN_SCOPE in asked:
        raise InvalidScope(
            "The admin scope is granted by an administrator; this grant has none."
        )
    return asked


def narrow(granted: str, raw: str | None) -> tuple[str, ...]:
    """RFC 6749 §6: a refresh may ask for less than was granted, never more."""
    have = tuple(granted.split())
    asked = parse(raw)
    if not asked:
        return have
    wider = [s for s in asked if s not in have]
    if wider:
        raise InvalidScope(
            f"{' '.join(wider)} was not granted; a refresh may only narrow the scope."
        )
    return asked
