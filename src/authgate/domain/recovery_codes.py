"""Recovery codes: one-time codes that stand in for a second factor when the
person's authenticator is lost (not to be confused with ``domain.recovery``'s
recovery key, which resets a forgotten password).

Enrolling the first second factor issues ten, shown once; issuing again
replaces them all. Each is 12 characters from an alphabet without look-alikes
(no 0/o, 1/l/i), about 59 bits (OWASP ASVS 2.6.2 asks for at least 20 for
look-up secrets; the codes here also stand up to offline guessing), printed in
groups of four. Only a keyed digest is stored (HMAC-SHA-256 under a key derived
from the server secret, over the user id and the code), so a copy of the
database alone lets no one test guesses, and a code only ever works for its
own account. Using one is a conditional update, so it works once even
against a racing request.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from authgate.domain import audit
from authgate.domain.context import Peer
from authgate.util import clock
from authgate.util.ids import new_id

COUNT = 10
#: lowercase letters and digits without 0, 1, i, l, o
ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
_LENGTH = 12
_GROUP = 4


@dataclass(frozen=True, slots=True)
class RecoveryCode:
    id: str
    user_id: str
    code_hash: str
    created_at: datetime
    used_at: datetime | None = None


class RecoveryCodeStore(Protocol):
    async def replace(self, user_id: str, codes: list[RecoveryCode]) -> None:
        """Delete the user's codes, used or not, and store these."""

    async def use(self, user_id: str, code_hash: str, at: datetime) -> bool:
        """Mark the user's unused code with this hash used, in one conditional
        update; ``False`` when there is none (unknown, another user's, or used
        already, even by a concurrent transaction)."""

    async def remaining(self, user_id: str) -> int:
        """How many unused codes the user has."""

    async def delete_all(self, user_id: str) -> int: ...


class Tx(audit.Tx, Protocol):
    @property
    def recovery_codes(self) -> RecoveryCodeStore: ...


class Digester:
    """The keyed digest codes are stored and looked up by: under ``key`` for
    new codes, and also under each of ``previous`` for the codes issued
    before a secret rotation, which cannot be re-keyed without the codes."""

    def __init__(self, key: bytes, *previous: bytes) -> None:
        self._keys = (key, *previous)

    def __call__(self, user_id: str, code: str) -> str:
        return self.candidates(user_id, code)[0]

    def candidates(self, user_id: str, code: str) -> list[str]:
        """The digests ``code`` may be stored under, the current key's first."""
        message = f"{user_id}\n{normalize(code)}".encode()
        return [hmac.new(k, message, hashlib.sha256).hexdigest() for k in self._keys]


def normalize(code: str) -> str:
    """What a person typed, as generated: case, spaces and hyphens ignored."""
    return "".join(c for c in code.lower() if c not in " -\t")


def _new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(_LENGTH))
    return "-".join(raw[i : i + _GROUP] for i in range(0, _LENGTH, _GROUP))


async def issue(
    stores: Tx, digest: Digester, *, user_id: str, peer: Peer, first: bool
) -> list[str]:
    """Ten new codes for ``user_id``, replacing every previous one. ``first``
    says they come with a first factor (audited as part of that enrolment)
    rather than regenerated on request."""
    now = clock.now()
    codes = [_new_code() for _ in range(COUNT)]
    await stores.recovery_codes.replace(
        user_id,
        [
            RecoveryCode(
                id=new_id("rcc"),
                user_id=user_id,
                code_hash=digest(user_id, code),
                created_at=now,
            )
            for code in codes
        ],
    )
    if not first:
        await audit.record(
            stores,
            audit.Action.RECOVERY_CODES_REGENERATED,
            peer,
            actor_id=user_id,
            target_id=user_id,
        )
    return codes


async def use(
    stores: Tx, digest: Digester, *, user_id: str, code: str, peer: Peer
) -> bool:
    """Use one of ``user_id``'s codes; ``True`` when it was theirs and unused."""
    if not 0 < len(normalize(code)) <= 4 * _LENGTH:
        return False
    now = clock.now()
    for candidate in digest.candidates(user_id, code):
        if await stores.recovery_codes.use(user_id, candidate, now):
            break
    else:
        return False
    left = await stores.recovery_codes.remaining(user_id)
    await audit.record(
        stores,
        audit.Action.RECOVERY_CODE_USED,
        peer,
        actor_id=user_id,
        target_id=user_id,
        details={"remaining": left},
    )
    # Once Authgate sends email (#19), tell the person a code was used here.
    return True


async def remaining(stores: Tx, user_id: str) -> int:
    return await stores.recovery_codes.remaining(user_id)


async def withdraw(stores: Tx, user_id: str) -> None:
    """Delete them all, when the last factor they stand in for is removed."""
    await stores.recovery_codes.delete_all(user_id)
