"""HKDF-SHA256 (RFC 5869): one server secret, a separate key for every use."""

import hashlib
import hmac


def derive(
    secret: bytes, info: str | bytes, length: int = 32, salt: bytes = b"authgate"
) -> bytes:
    """``info`` names the use; text is taken as its UTF-8 bytes (RFC 5869's
    ``info`` is an octet string, so its test vectors pass bytes)."""
    context = info.encode() if isinstance(info, str) else info
    prk = hmac.new(salt, secret, hashlib.sha256).digest()
    okm, block, counter = b"", b"", 1
    while len(okm) < length:
        block = hmac.new(
            prk, block + context + bytes([counter]), hashlib.sha256
        ).digest()
        okm += block
        counter += 1
    return okm[:length]
