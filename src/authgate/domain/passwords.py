"""Password hashing (argon2id at OWASP parameters) and the password policy.

Hashing runs in a small dedicated thread pool: argon2 releases the GIL, so the
event loop keeps serving other requests while a hash is computed, and the pool's
size (one thread per core) keeps a login flood from starving other threads.
"""

import asyncio
import functools
import os
import unicodedata
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher, Type, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.low_level import ARGON2_VERSION

from authgate.errors import WeakPassword

MAX_LENGTH = 128  #: OWASP ASVS 2.1.2: at most 128 characters
COMMON_PASSWORDS_CHECKED = 30_000  #: the most common passwords refused (zxcvbn's list)
_ESTIMATED = 72  #: zxcvbn's own limit: it refuses to estimate longer passwords

_pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="argon2")


class Hasher:
    def __init__(self, time_cost: int = 2, memory_kib: int = 19456) -> None:
        self._argon2 = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=1, type=Type.ID
        )
        # Verified against when the user does not exist, so an unknown username
        # costs the same time as a wrong password (no enumeration by timing).
        self._dummy = self._argon2.hash("authgate-timing-equaliser")
        self._weaker: dict[tuple[str, int, int], bool] = {}

    async def hash(self, password: str) -> str:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(_pool, self._argon2.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        loop = asyncio.get_running_loop()
        check = functools.partial(self._verify, password_hash or self._dummy, password)
        ok = await loop.run_in_executor(_pool, check)
        return ok and password_hash is not None

    def needs_rehash(self, password_hash: str) -> bool:
        """Weaker than these parameters, not merely different: while instances
        with old and new settings run side by side (a rolling upgrade), each
        would otherwise rehash on every login what the other just wrote. A
        stronger stored hash stays; lowering the settings never weakens one.

        The answer depends on the parameters alone, kept by their text: parsing
        a hash on every login cost the event loop 0.3 ms."""
        head, _, digest = password_hash.rpartition("$")
        parameters, _, salt = head.rpartition("$")
        key = (parameters, len(salt), len(digest))
        known = self._weaker.get(key)
        if known is None:
            known = self._is_weaker(password_hash)
            if len(self._weaker) < 64:  # a few parameter sets exist at a time
                self._weaker[key] = known
        return known

    def _is_weaker(self, password_hash: str) -> bool:
        try:
            stored = extract_parameters(password_hash)
        except InvalidHashError:
            return True
        wanted = self._argon2
        return (
            stored.type is not Type.ID
            or stored.version < ARGON2_VERSION
            or stored.time_cost < wanted.time_cost
            or stored.memory_cost < wanted.memory_cost
            or stored.hash_len < wanted.hash_len
            or stored.salt_len < wanted.salt_len
        )

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._argon2.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


@functools.cache
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"][:COMMON_PASSWORDS_CHECKED])


def check_policy(
    password: str, *, min_length: int, username: str | None = None
) -> None:
    """Refuse passwords that are short, over-long, common or the username (ASVS 2.1)."""
    length = len(unicodedata.normalize("NFC", password))
    if length < min_length:
        raise _refusal(
            f"Password must be at least {min_length} characters.", password, username
        )
    if length > MAX_LENGTH:
        raise WeakPassword(f"Password must be at most {MAX_LENGTH} characters.")
    if "\x00" in password:
        raise WeakPassword("Password must not contain NUL characters.")
    lowered = password.lower()
    if lowered in _common_passwords():
        raise _refusal(
            "That password is too common; choose another.", password, username
        )
    if username and username.lower() in lowered:
        raise _refusal("Password must not contain the username.", password, username)


def _refusal(reason: str, password: str, username: str | None) -> WeakPassword:
    """The refusal with zxcvbn's strength estimate and its advice, so a person
    learns what would pass instead of guessing again (ASVS 2.1.8). Only a
    refusal pays for the estimate (a few ms); zxcvbn reads at most
    ``_ESTIMATED`` characters, and a password that long is never refused for
    its content."""
    from zxcvbn import zxcvbn

    estimate = zxcvbn(password[:_ESTIMATED], user_inputs=[username] if username else [])
    feedback = estimate["feedback"]
    advice = [feedback["warning"], *feedback["suggestions"]]
    advice = [line if line.endswith(".") else f"{line}." for line in advice if line]
    if not advice:
        return WeakPassword(reason)
    strength = f"Strength {estimate['score']} of 4:"
    return WeakPassword(" ".join([reason, strength, *advice]))
