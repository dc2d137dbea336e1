"""Signing keys: ES256 for access tokens, RS256 for OIDC ID tokens (OIDC Core §15.1
requires RS256 support).

Private halves are stored encrypted with AES-256-GCM under a key derived from
the server secret, so a database dump alone signs nothing. Rotation makes a new
key active at once and keeps publishing the old one until every token it signed
has expired, so verifiers never see a valid token with an unknown key.
"""

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from authgate.domain import audit, invalidation
from authgate.domain.context import Peer
from authgate.domain.sealing import Sealer
from authgate.errors import AuthgateError
from authgate.util import clock

ACCESS_TOKEN_ALG = "ES256"  # noqa: S105 - an algorithm name
ID_TOKEN_ALG = "RS256"  # noqa: S105 - an algorithm name
ALGORITHMS = (ACCESS_TOKEN_ALG, ID_TOKEN_ALG)
#: The invalidation tag of a rotation: every instance reloads its key ring
#: (the CLI or another instance may have rotated).
RING = "signing-keys"

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    alg: str
    public_jwk: Mapping[str, Any]
    private_encrypted: bytes
    created_at: datetime
    retired_at: datetime | None = None


class KeyStore(Protocol):
    async def add(self, key: SigningKey) -> None: ...

    async def all(self) -> list[SigningKey]:
        """Every key, newest first."""

    async def retire_active(self, alg: str, at: datetime) -> list[str]:
        """Retire the active key(s) of ``alg``; the kids retired."""

    async def replace_sealed(self, kid: str, private_encrypted: bytes) -> None:
        """Store a key's private part sealed anew (a secret rotation)."""


class Tx(audit.Tx, invalidation.Tx, Protocol):
    @property
    def signing_keys(self) -> KeyStore: ...


class KeyCipher:
    """Private PEM keys sealed at rest; the kid is bound as associated data so
    an encrypted key cannot be swapped onto another row."""

    def __init__(self, key: bytes, *previous: bytes) -> None:
        self._sealer = Sealer(key, *previous)

    def seal(self, kid: str, plaintext: bytes) -> bytes:
        return self._sealer.seal(plaintext, kid.encode())

    def reseal(self, kid: str, sealed: bytes) -> bytes:
        """``sealed`` under the current secret's key (a secret rotation)."""
        return self.seal(kid, self.open(kid, sealed))

    def open(self, kid: str, sealed: bytes) -> bytes:
        plaintext = self._sealer.open(sealed, kid.encode())
        if plaintext is None:
            raise WrongSecret(
                "The signing keys in the database cannot be decrypted with this "
                "AUTHGATE_SECRET_KEY: start with the secret they were made with."
            )
        return plaintext


class WrongSecret(AuthgateError):
    """The server secret is not the one the stored keys were sealed with."""


def _generate(alg: str, cipher: KeyCipher) -> SigningKey:
    private: PrivateKey = (
        ec.generate_private_key(ec.SECP256R1())
        if alg == "ES256"
        else rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    algorithm = jwt.get_algorithm_by_name(alg)
    public_jwk: dict[str, Any] = json.loads(algorithm.to_jwk(private.public_key()))
    kid = _thumbprint(public_jwk)
    public_jwk.update(kid=kid, alg=alg, use="sig")
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return SigningKey(
        kid=kid,
        alg=alg,
        public_jwk=public_jwk,
        private_encrypted=cipher.seal(kid, pem),
        created_at=clock.now(),
    )


def _thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 JWK thumbprint: a stable kid derived from the key itself."""
    members = ("crv", "kty", "x", "y") if jwk["kty"] == "EC" else ("e", "kty", "n")
    canonical = json.dumps(
        {m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True
    )
    return (
        base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest())
        .rstrip(b"=")
        .decode()
    )


def published_until(key: SigningKey, retention: timedelta) -> datetime | None:
    """When a retired key leaves the JWKS (as :class:`KeyRing` decides): once
    every token it signed has expired. ``None`` while the key is active."""
    return key.retired_at + retention if key.retired_at else None


class KeyRing:
    """The keys one instance signs and verifies with, decrypted once at load."""

    def __init__(
        self, keys: list[SigningKey], cipher: KeyCipher, retention: timedelta
    ) -> None:
        now = clock.now()
        self.published = [
            k for k in keys if k.retired_at is None or k.retired_at + retention > now
        ]
        self._public: dict[str, PublicKey] = {}
        self._active: dict[str, tuple[str, PrivateKey]] = {}
        for key in self.published:
            private = serialization.load_pem_private_key(
                cipher.open(key.kid, key.private_encrypted), password=None
            )
            if not isinstance(private, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
                raise ValueError(f"signing key {key.kid} is neither EC nor RSA")
            self._public[key.kid] = private.public_key()
            if key.retired_at is None and key.alg not in self._active:
                self._active[key.alg] = (key.kid, private)

    def signer(self, alg: str) -> tuple[str, PrivateKey]:
        return self._active[alg]

    def public_key(self, kid: str) -> PublicKey | None:
        return self._public.get(kid)

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        return {"keys": [dict(k.public_jwk) for k in self.published]}


async def ensure(stores: Tx, cipher: KeyCipher) -> None:
    """Generate any missing active key (first start)."""
    active = {k.alg for k in await stores.signing_keys.all() if k.retired_at is None}
    for alg in ALGORITHMS:
        if alg not in active:
            await stores.signing_keys.add(_generate(alg, cipher))


async def reseal(stores: Tx, cipher: KeyCipher) -> int:
    """Every key's private part sealed under the current secret (``cipher``
    opens it under the previous one); how many. A key that opens under
    neither stops the rotation (:class:`WrongSecret`): dropping it would
    break every token it signed."""
    keys = await stores.signing_keys.all()
    for key in keys:
        await stores.signing_keys.replace_sealed(
            key.kid, cipher.reseal(key.kid, key.private_encrypted)
        )
    return len(keys)


async def rotate(
    stores: Tx,
    cipher: KeyCipher,
    *,
    actor_id: str | None,
    peer: Peer,
) -> list[str]:
    """Retire the active keys and make new ones; the new kids."""
    now = clock.now()
    new_kids: list[str] = []
    retired: list[str] = []
    for alg in ALGORITHMS:
        retired += await stores.signing_keys.retire_active(alg, now)
        key = _generate(alg, cipher)
        await stores.signing_keys.add(key)
        new_kids.append(key.kid)
    stores.invalidate(RING)
    await audit.record(
        stores,
        audit.Action.KEYS_ROTATED,
        peer,
        actor_id=actor_id,
        details={"new": new_kids, "retired": retired},
    )
    return new_kids
