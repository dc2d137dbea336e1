"""Values only this server can read: secrets at rest, and tickets a client holds.

AES-256-GCM (NIST SP 800-38D) under a key derived from the server secret for
one use (``derived_keys.derive``), with a fresh 96-bit nonce each time. The
associated data binds a sealed value to what it was sealed for (a signing
key's kid, a user's id, a ticket's purpose), so a value sealed for one thing
never opens as another, and any change fails the tag check.

A ticket is a short-lived sealed statement a browser or client carries between
two steps of a flow (an ``mfa_token``, a WebAuthn challenge), so that any
instance can finish what another began. It carries an id, for the step that
ends it to mark it used (``domain.replay``).

While the server secret is being rotated (``AUTHGATE_SECRET_KEY_PREVIOUS``) a
sealer holds the key derived from the previous secret too: it seals under the
new key only and opens under either, so nothing sealed before the rotation is
lost, and :meth:`Sealer.reseal` moves a stored value onto the new key.
"""

import base64
import binascii
import json
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from authgate.util import clock
from authgate.util.ids import new_id

_NONCE_BYTES = 12


@dataclass(frozen=True, slots=True)
class Ticket:
    id: str  #: unique per ticket: mark it used with ``replay.use_once``
    data: dict[str, Any]
    expires_at: datetime


class Sealer:
    """Seals under ``key``; opens under ``key`` or any of ``previous``."""

    def __init__(self, key: bytes, *previous: bytes) -> None:
        self._aead = AESGCM(key)
        self._openers = (self._aead, *(AESGCM(old) for old in previous))

    def seal(self, plaintext: bytes, context: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, context)

    def open(self, sealed: bytes, context: bytes) -> bytes | None:
        """The plaintext; ``None`` when it was altered or sealed for another
        context or under another key."""
        if len(sealed) <= _NONCE_BYTES:
            return None
        for aead in self._openers:
            try:
                return aead.decrypt(
                    sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], context
                )
            except InvalidTag:
                continue
        return None

    def reseal(self, sealed: bytes, context: bytes) -> bytes | None:
        """``sealed`` sealed anew under the current key; ``None`` when it opens
        under none of the keys."""
        plaintext = self.open(sealed, context)
        return None if plaintext is None else self.seal(plaintext, context)

    def seal_text(self, data: dict[str, Any], context: str) -> str:
        """``data`` as JSON, sealed into URL-safe text."""
        payload = json.dumps(data, separators=(",", ":")).encode()
        sealed = self.seal(payload, context.encode())
        return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode()

    def open_text(self, text: str, context: str) -> dict[str, Any] | None:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (ValueError, binascii.Error):
            return None
        payload = self.open(raw, context.encode())
        if payload is None:
            return None
        data = json.loads(payload)
        return data if isinstance(data, dict) else None

    def ticket(self, purpose: str, data: dict[str, Any], ttl: timedelta) -> str:
        """A ticket for ``purpose`` that opens until ``ttl`` from now."""
        expires_at = clock.now() + ttl
        body = {"id": new_id("tkt"), "exp": expires_at.timestamp(), "data": data}
        return self.seal_text(body, f"authgate/ticket/{purpose}")

    def open_ticket(self, purpose: str, text: str) -> Ticket | None:
        """The ticket; ``None`` when it was altered, made for another purpose,
        or has expired."""
        body = self.open_text(text, f"authgate/ticket/{purpose}")
        if body is None:
            return None
        expires_at = datetime.fromtimestamp(float(body["exp"]), UTC)
        if clock.now() >= expires_at:
            return None
        return Ticket(id=str(body["id"]), data=body["data"], expires_at=expires_at)


@dataclass(frozen=True, slots=True)
class Resealed:
    done: int  #: values now sealed under the current key
    #: values that open under none of the keys (sealed under a secret older
    #: than the previous one): left as they are, as unreadable as before
    unreadable: int


async def reseal_all(
    rows: list[tuple[str, bytes]],
    sealer: Sealer,
    context: Callable[[str], bytes],
    replace: Callable[[str, bytes], Awaitable[None]],
) -> Resealed:
    """Each stored ``(id, sealed)`` sealed anew under the current key and
    written back with ``replace``; ``context`` is the associated data its
    concept binds to the id."""
    done = unreadable = 0
    for row_id, sealed in rows:
        fresh = sealer.reseal(sealed, context(row_id))
        if fresh is None:
            unreadable += 1
            continue
        await replace(row_id, fresh)
        done += 1
    return Resealed(done=done, unreadable=unreadable)
