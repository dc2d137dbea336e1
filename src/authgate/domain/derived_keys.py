"""One server secret, a separate key for every use: HKDF-SHA256 (RFC 5869).

Each use (``"signing-keys"``, ``"mail"``, ``"csrf"`` …) names its own
``info``, so a key leaked from one use opens nothing sealed by another. The
salt and length are fixed: changing either changes every key, and what was
sealed under the old keys (signing keys, mail, TOTP secrets) would no longer
open.
"""

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

#: fixed for all time: every key sealed at rest was derived with it
_SALT = b"authgate"
#: AES-256-GCM and HMAC-SHA256 both take 32-byte keys
_LENGTH = 32


def derive(secret: bytes, purpose: str) -> bytes:
    """The key for ``purpose`` (RFC 5869 ``info``: its UTF-8 bytes)."""
    hkdf = HKDF(
        algorithm=hashes.SHA256(), length=_LENGTH, salt=_SALT, info=purpose.encode()
    )
    return hkdf.derive(secret)


def derive_all(secrets: tuple[bytes, ...], purpose: str) -> tuple[bytes, ...]:
    """The key for ``purpose`` under each secret, the current one first (the
    previous secret's keys still open what was sealed before a rotation)."""
    return tuple(derive(secret, purpose) for secret in secrets)
