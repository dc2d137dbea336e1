"""Issuing JWT access tokens (RFC 9068) and OIDC ID tokens.

Verification lives in ``authgate.guard``, which every resource server shares;
the server plugs its own key ring in as the guard's key source.
"""

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from authgate.domain import orgs
from authgate.domain.assurance import Authentication
from authgate.domain.orgs import Membership
from authgate.domain.signing_keys import ACCESS_TOKEN_ALG, ID_TOKEN_ALG, KeyRing
from authgate.util import clock
from authgate.util.ids import new_id

ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 -: RFC 9068 §2.1 ``typ`` header


@dataclass(frozen=True, slots=True)
class IssuedJwt:
    token: str
    jti: str
    expires_at: datetime


def issue_access_token(
    ring: KeyRing,
    *,
    issuer: str,
    subject: str,
    audience: str | list[str],
    client_id: str,
    scope: str,
    ttl: timedelta,
    session_id: str | None = None,
    org: Membership | None = None,
    authentication: Authentication | None = None,
    extra: dict[str, Any] | None = None,
) -> IssuedJwt:
    """``org``: the membership the token acts with, written as the ``org``
    and ``roles`` claims. ``authentication``: how its person signed in
    (``auth_time``, ``amr``, ``acr``), so a resource server can demand a
    recent or stronger one (RFC 9470 §3); a client's own token has none."""
    now = clock.now()
    expires_at = now + ttl
    jti = new_id("at")
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": subject,
        "aud": audience,
        "exp": int(expires_at.timestamp()),
        "iat": int(now.timestamp()),
        "jti": jti,
        "client_id": client_id,
        "scope": scope,
        **({"sid": session_id} if session_id else {}),
        **orgs.claims(org),
        **(authentication.claims() if authentication else {}),
        **(extra or {}),
    }
    kid, key = ring.signer(ACCESS_TOKEN_ALG)
    token = jwt.encode(
        claims,
        key,
        algorithm=ACCESS_TOKEN_ALG,
        headers={"kid": kid, "typ": ACCESS_TOKEN_TYPE},
    )
    return IssuedJwt(token=token, jti=jti, expires_at=expires_at)


def token_hash(token: str) -> str:
    """OIDC Core §3.1.3.6 ``at_hash``: the left half of the SHA-256 of the token
    (the hash that goes with RS256), base64url without padding."""
    digest = hashlib.sha256(token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


def issue_id_token(
    ring: KeyRing,
    *,
    issuer: str,
    subject: str,
    client_id: str,
    ttl: timedelta,
    nonce: str | None = None,
    access_token: str | None = None,
    authentication: Authentication | None = None,
    claims: dict[str, Any] | None = None,
) -> str:
    """An OIDC ID token (OIDC Core §2), signed RS256 as §15.1 requires every
    provider to support. ``aud`` is the client; ``azp`` says so again for
    relying parties that check it. ``authentication`` gives ``auth_time``
    (which ``max_age`` makes required), ``amr`` and ``acr``."""
    now = clock.now()
    body: dict[str, Any] = {
        "iss": issuer,
        "sub": subject,
        "aud": client_id,
        "azp": client_id,
        "exp": int((now + ttl).timestamp()),
        "iat": int(now.timestamp()),
        **({"nonce": nonce} if nonce else {}),
        **({"at_hash": token_hash(access_token)} if access_token else {}),
        **(authentication.claims() if authentication else {}),
        **(claims or {}),
    }
    kid, key = ring.signer(ID_TOKEN_ALG)
    return jwt.encode(
        body, key, algorithm=ID_TOKEN_ALG, headers={"kid": kid, "typ": "JWT"}
    )
