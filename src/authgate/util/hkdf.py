"""HKDF-SHA256 (RFC 5869): one server secret, a separate key for every use."""

import hashlib
import hmac


def derive(
    secret: bytes, info: str, length: int = 32, salt: bytes = b"authgate"
) -> bytes:
    prk = hmac.new(salt, secret, hashlib.sha256).digest()
    okm, block, counter = b"", b"", 1
    while len(okm) < length:
        block = hmac.new(
            prk, block + info.encode() + bytes([counter]), hashlib.sha256
        ).digest()
        okm += block
        counter += 1
    return okm[:length]
