"""Reading Authgate's own JWTs: RFC 9068 access tokens, for revocation and
introspection (signature by ``kid`` from the key ring, ES256 only, ``typ`` and
issuer), and ID tokens given back as a logout's hint. Not the audience: the
authorization server answers for every resource. Expiry is left to the caller,
which treats an expired token as inactive."""

from typing import Any

import jwt

from authgate.domain.jwt import ACCESS_TOKEN_TYPE
from authgate.domain.signing_keys import ACCESS_TOKEN_ALG, KeyRing

_TYPES = (ACCESS_TOKEN_TYPE, "application/at+jwt")


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2


def own_claims(
    ring: KeyRing,
    token: str,
    *,
    issuer: str,
    alg: str,
    require: list[str],
    types: tuple[str, ...] | None = None,
) -> dict[str, Any] | None:
    """The claims of a JWT this server signed with ``alg`` (and, when given,
    one of the ``typ`` headers ``types``), for ``issuer``, or ``None``.
    Neither audience nor time is checked: each caller judges those."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        return None
    kid = header.get("kid")
    if header.get("alg") != alg or (
        types is not None and header.get("typ") not in types
    ):
        return None
    key = ring.public_key(kid) if isinstance(kid, str) else None
    if key is None:
        return None
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[alg],
            issuer=issuer,
            options={
                "require": require,
                "verify_aud": False,
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.InvalidTokenError:
        return None
    return claims


def decode(ring: KeyRing, token: str, *, issuer: str) -> dict[str, Any] | None:
    """The claims of an access token this server signed, or ``None``."""
    claims = own_claims(
        ring,
        token,
        issuer=issuer,
        alg=ACCESS_TOKEN_ALG,
        require=["exp", "iat", "iss", "sub", "jti"],
        types=_TYPES,
    )
    if claims is None or not isinstance(claims.get("exp"), int | float):
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
