"""Opaque token format ``{prefix}_{kind}_{random}{checksum}``.

- ``random``: 32 bytes from ``secrets`` as 43 base62 characters (256 bits), so a
  plain SHA-256 is a safe way to store it (a slow KDF protects what can be
  guessed, and 256 random bits cannot).
- ``checksum``: CRC32 of everything before it, 6 base62 characters, so secret
  scanners (and our own parser) reject typos and look-alikes offline, without a
  database round trip.
"""

import hashlib
import re
import secrets
import zlib
from dataclasses import dataclass

from authgate.util import base62

RANDOM_BYTES = 32
RANDOM_CHARS = 43  #: ceil(256 / log2(62))
CHECKSUM_CHARS = 6  #: ceil(32 / log2(62))
DISPLAY_CHARS = 4  #: random characters kept in the display prefix

# ``\Z``, not ``$``: ``$`` also matches before a trailing newline.
_SHAPE = re.compile(r"^([a-z][a-z0-9]{0,15})_([a-z]{2,8})_([0-9A-Za-z]{49})\Z")


@dataclass(frozen=True, slots=True)
class ParsedToken:
    prefix: str
    kind: str
    value: str


def _checksum(body: str) -> str:
    return base62.encode_int(zlib.crc32(body.encode()), CHECKSUM_CHARS)


def mint(prefix: str, kind: str) -> str:
    random = base62.encode(secrets.token_bytes(RANDOM_BYTES), RANDOM_CHARS)
    body = f"{prefix}_{kind}_{random}"
    return body + _checksum(body)


def parse(token: str) -> ParsedToken | None:
    """The token's parts; ``None`` when malformed or its checksum fails."""
    match = _SHAPE.match(token)
    if match is None:
        return None
    body, check = token[:-CHECKSUM_CHARS], token[-CHECKSUM_CHARS:]
    if not secrets.compare_digest(_checksum(body), check):
        return None
    return ParsedToken(prefix=match[1], kind=match[2], value=token)


def kind_of(token: str) -> str | None:
    """The kind part of a well-formed token, checked cheaply by shape only."""
    match = _SHAPE.match(token)
    return match[2] if match else None


def digest(token: str) -> str:
    """What is stored and looked up: a hex SHA-256 of the whole token."""
    return hashlib.sha256(token.encode()).hexdigest()


def display_prefix(token: str) -> str:
    """What lists show, ``ag_pat_AbCd``: tells tokens apart, useless to an attacker."""
    prefix, kind, rest = token.split("_", 2)
    return f"{prefix}_{kind}_{rest[:DISPLAY_CHARS]}"
