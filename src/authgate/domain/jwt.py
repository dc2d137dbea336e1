"""Issuing JWT access tokens (RFC 9068) and OIDC ID tokens.

Verification lives in ``authgate.guard``, which every resource server shares;
the server plugs its own key ring in as the guard's key source.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from authgate.domain.signing_keys import ACCESS_TOKEN_ALG, KeyRing
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
    org_id: str | None = None,
    extra: dict[str, Any] | None = None,
) -> IssuedJwt:
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
        **({"org": org_id} if org_id else {}),
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
