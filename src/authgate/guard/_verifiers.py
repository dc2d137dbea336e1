"""How a credential is checked (the fastapi-users "strategy" half).

A :class:`Verifier` says which credentials it handles and turns one into a
:class:`Verified` principal or raises :class:`CredentialError`. The guard ships
:class:`JwtVerifier` (offline, against a key source); the Authgate server plugs
in storage-backed verifiers for sessions, PATs and API keys the same way.
"""

import base64
import json
from collections.abc import Mapping
from typing import Any, Protocol

import jwt

from authgate.guard._cache import Verified
from authgate.guard._credentials import Credential
from authgate.guard._errors import CredentialError, wrong_audience
from authgate.guard._principal import Principal
from authgate.util import clock

#: RFC 9068 §4: the ``typ`` of a JWT access token
ACCESS_TOKEN_TYPES: tuple[str | None, ...] = ("at+jwt", "application/at+jwt")


def _unverified_header(token: str) -> dict[str, Any]:
    """The header, read only to pick the algorithm and the key.

    Not ``jwt.get_unverified_header``: it checks every character of all three
    segments in Python, as ``jwt.decode`` does again right after, and that
    second pass was a third of a new token's verification (PyJWT 2.15,
    ``_decode_base64url_segment``). Whatever this reads leniently,
    ``jwt.decode`` then reads strictly, and the signature covers it."""
    segment = token.partition(".")[0]
    try:
        header = json.loads(
            base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        )
    except (ValueError, RecursionError) as exc:  # binascii.Error is a ValueError
        raise CredentialError("The token is malformed.") from exc
    if not isinstance(header, dict):
        raise CredentialError("The token is malformed.")
    return header


class Verifier(Protocol):
    def accepts(self, credential: Credential) -> bool: ...

    async def verify(self, credential: Credential) -> Verified: ...


class KeySource(Protocol):
    async def key(self, kid: str) -> Any | None:
        """The public key for ``kid``, or ``None`` when there is no such key."""


def org_role(answer: Mapping[str, Any]) -> str | None:
    """The caller's role in the token's org: the ``roles`` claim read only
    beside an ``org`` claim. It is never an instance role (``Principal.roles``,
    which ``is_admin`` reads): an org's admin administers that org, not the
    server, so no token can make its bearer an instance administrator."""
    roles = answer.get("roles")
    if not answer.get("org") or not isinstance(roles, list) or not roles:
        return None
    return str(roles[0])


def _auth_time(claims: Mapping[str, Any]) -> float | None:
    value = claims.get("auth_time")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _amr(claims: Mapping[str, Any]) -> tuple[str, ...]:
    value = claims.get("amr")
    if not isinstance(value, list):
        return ()
    return tuple(v for v in value if isinstance(v, str))


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    subject = str(claims["sub"])
    client_id = claims.get("client_id")
    is_client = client_id is not None and subject == client_id
    scope = claims.get("scope", "")
    return Principal(
        subject=subject,
        kind="client" if is_client else "jwt",
        credential_id=claims.get("jti"),
        user_id=None if is_client else subject,
        session_id=claims.get("sid"),
        client_id=client_id,
        org_id=claims.get("org"),
        role=org_role(claims),
        scopes=frozenset(scope.split()) if isinstance(scope, str) else frozenset(),
        expires_at=float(claims["exp"]),
        issuer=claims.get("iss"),
        auth_time=_auth_time(claims),
        amr=_amr(claims),
        acr=acr if isinstance(acr := claims.get("acr"), str) else None,
    )


class JwtVerifier:
    """Verifies RFC 9068 access tokens: signature (by ``kid``, from an allowed
    asymmetric algorithm only, so ``alg: none`` and HS256-with-a-public-key
    forgeries fail), ``typ``, ``iss``, ``aud``, ``exp`` and ``nbf``."""

    def __init__(
        self,
        keys: KeySource,
        *,
        issuer: str,
        audience: str | list[str] | None,
        algorithms: tuple[str, ...] = ("ES256", "RS256"),
        leeway: float = 0,
        token_types: tuple[str | None, ...] = ACCESS_TOKEN_TYPES,
    ) -> None:
        """``token_types``: the ``typ`` headers accepted. RFC 9068 says
        ``at+jwt``, and Authgate's tokens say so; widen it (``"JWT"``, ``None``
        for none) only for issuers that do not."""
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.algorithms = algorithms
        self.leeway = leeway
        self.token_types = token_types

    def accepts(self, credential: Credential) -> bool:
        return credential.is_jwt

    async def claims(self, token: str) -> dict[str, Any]:
        header = _unverified_header(token)
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in self.algorithms:
            raise CredentialError("The token's algorithm is not accepted.")
        if header.get("typ") not in self.token_types:
            raise CredentialError("The token is not an access token.")
        key = await self.keys.key(kid) if isinstance(kid, str) else None
        if key is None:
            raise CredentialError("The token is signed with an unknown key.")
        try:
            # The kid may name a key of another type (the RS256 key under
            # ``alg: ES256``): a bad token, not a server error.
            prepared = jwt.get_algorithm_by_name(alg).prepare_key(key)
        except (jwt.InvalidKeyError, TypeError, ValueError) as exc:
            raise CredentialError("The key does not fit the algorithm.") from exc
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                prepared,
                algorithms=[alg],
                issuer=self.issuer,
                audience=self.audience,
                leeway=self.leeway,
                options={
                    "require": ["exp", "iat", "iss", "sub"],
                    "verify_aud": self.audience is not None,
                    # Checked below against authgate.util.clock, the clock the
                    # issuer and the verification cache use (and tests move).
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.InvalidAudienceError as exc:
            raise wrong_audience(self.audience) from exc
        except jwt.InvalidTokenError as exc:
            raise CredentialError("The token is invalid.") from exc
        self._check_times(claims)
        return claims

    def _check_times(self, claims: Mapping[str, Any]) -> None:
        """``exp``, ``nbf`` and ``iat`` as PyJWT checks them (RFC 7519 §4.1.4-6)."""
        now = clock.now().timestamp()
        times: dict[str, float] = {}
        for name in ("exp", "nbf", "iat"):
            value = claims.get(name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise CredentialError(f"The token's {name} claim is not a number.")
            times[name] = float(value)
        if times["exp"] <= now - self.leeway:
            raise CredentialError("The token has expired.")
        if max(times.get("nbf", now), times["iat"]) > now + self.leeway:
            raise CredentialError("The token is not valid yet.")

    async def verify(self, credential: Credential) -> Verified:
        claims = await self.claims(credential.value)
        principal = principal_from_claims(claims)
        tags = tuple(t for t in (principal.session_id, principal.user_id) if t)
        return Verified(principal, valid_until=float(claims["exp"]), tags=tags)
