"""Proof Key for Code Exchange (RFC 7636), as OAuth 2.1 §4.1.1 requires it of
every client: ``S256`` only (``plain`` would hand the verifier to whoever sees
the authorization request)."""

import base64
import hashlib
import hmac
import re

from authgate.oauth.errors import InvalidRequest

METHOD = "S256"  #: RFC 7636 §4.2; the only method accepted
#: RFC 7636 §4.1: 43-128 unreserved characters (letters, digits, ``-._~``).
_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}\Z")
#: An S256 challenge is a base64url SHA-256: exactly 43 characters.
_CHALLENGE = re.compile(r"^[A-Za-z0-9\-_]{43}\Z")


def check_challenge(challenge: str | None, method: str | None) -> str:
    """The challenge of an authorization request, or ``invalid_request``."""
    if challenge is None:
        raise InvalidRequest("PKCE is required: send code_challenge (S256).")
    # RFC 7636 §4.3: an absent method means plain, which is refused too.
    if (method or "plain") != METHOD:
        raise InvalidRequest("Only code_challenge_method=S256 is supported.")
    if not _CHALLENGE.match(challenge):
        raise InvalidRequest("code_challenge is not a base64url SHA-256 (S256).")
    return challenge


def challenge_of(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def verify(verifier: str, challenge: str) -> bool:
    """RFC 7636 §4.6, compared in constant time."""
    if not _VERIFIER.match(verifier):
        return False
    return hmac.compare_digest(challenge_of(verifier).encode(), challenge.encode())
