"""Reading Authgate's own RFC 9068 access tokens, for revocation and
introspection: signature (by ``kid`` from the key ring, ES256 only), ``typ`` and
issuer. Not the audience: the authorization server answers for every resource.
Expiry is left to the caller, which treats an expired token as inactive."""

from typing import Any

import jwt

from authgate.domain.jwt import ACCESS_TOKEN_TYPE
from authgate.domain.signing_keys import ACCESS_TOKEN_ALG, KeyRing

_TYPES = (ACCESS_TOKEN_TYPE, "application/at+jwt")


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2


def decode(ring: KeyRing, token: str, *, issuer: str) -> dict[str, Any] | None:
    """The claims of a token this server signed, or ``None``."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        return None
    kid = header.get("kid")
    if header.get("alg") != ACCESS_TOKEN_ALG or header.get("typ") not in _TYPES:
        return None
    key = ring.public_key(kid) if isinstance(kid, str) else None
    if key is None:
        return None
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[ACCESS_TOKEN_ALG],
            issuer=issuer,
            options={
                "require": ["exp", "iat", "iss", "sub", "jti"],
                "verify_aud": False,
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.InvalidTokenError:
        return None
    if not isinstance(claims.get("exp"), int | float):
        return None
    return claims


def revocation_ids(claims: dict[str, Any]) -> list[str]:
    """The ids whose revocation kills this token: its own, its grant's, its
    client's (see ``domain.revocations``)."""
    return [
        str(claims[name])
        for name in ("jti", "gid", "client_id")
        if isinstance(claims.get(name), str)
    ]
