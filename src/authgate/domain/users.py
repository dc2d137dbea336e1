"""Local accounts: who may register, how a username is normalised, and
password sign-in."""

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from authgate.domain import audit, lockout, sessions
from authgate.domain.context import ClientInfo
from authgate.domain.passwords import Hasher, check_policy
from authgate.domain.stores import Stores
from authgate.errors import Conflict, InvalidRequest, NotFound
from authgate.util import clock
from authgate.util.ids import new_id

USERNAME_MAX = 64
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s.]{2,63}$")


@dataclass(frozen=True, slots=True)
class User:
    id: str
    username: str
    email: str | None
    is_admin: bool
    password_hash: str | None
    created_at: datetime
    disabled_at: datetime | None = None
    default_org_id: str | None = None

    @property
    def active(self) -> bool:
        return self.disabled_at is None


class UserStore(Protocol):
    async def add(self, user: User) -> None:
        """Insert; raise ``Conflict`` when the username or email is taken."""

    async def get(self, user_id: str) -> User | None: ...

    async def by_username(self, username: str) -> User | None:
        """Look up by normalised username."""

    async def count(self) -> int: ...

    async def first_admin(self) -> User | None:
        """The earliest-created active administrator."""

    async def set_password_hash(self, user_id: str, password_hash: str) -> None: ...

    async def set_default_org(self, user_id: str, org_id: str | None) -> None: ...

    async def set_default_org_if_unset(self, user_id: str, org_id: str) -> None: ...

    async def clear_default_org(self, user_id: str, org_id: str) -> None:
        """Unset the default org if it is ``org_id``."""

    async def set_disabled(self, user_id: str, at: datetime | None) -> bool:
        """Disable (``at``) or enable (``None``); ``False`` when the user is missing."""


def normalize_username(raw: str) -> str:
    """NFKC + casefold so ``ALICE`` and ``alice`` are one account (ASVS 2.1 unicode)."""
    name = unicodedata.normalize("NFKC", raw).casefold().strip()
    if not _USERNAME.match(name):
        raise InvalidRequest(
            "Username must be 2-64 characters: letters, digits, '.', '_' or '-', "
            "starting with a letter or digit."
        )
    return name


def normalize_email(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    email = unicodedata.normalize("NFKC", raw).strip()
    if len(email) > 320 or not _EMAIL.match(email):
        raise InvalidRequest("Email address is not valid.")
    local, domain = email.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


async def create(
    stores: Stores,
    hasher: Hasher,
    *,
    username: str,
    password: str,
    email: str | None,
    is_admin: bool,
    min_length: int,
    actor_id: str | None,
    client: ClientInfo,
) -> User:
    """Create an account (registration and admin creation both end here)."""
    name = normalize_username(username)
    check_policy(password, min_length=min_length, username=name)
    if await stores.users.by_username(name) is not None:
        raise Conflict("That username is taken.")
    user = User(
        id=new_id("usr"),
        username=name,
        email=normalize_email(email),
        is_admin=is_admin,
        password_hash=await hasher.hash(password),
        created_at=clock.now(),
    )
    await stores.users.add(user)
    await audit.record(
        stores,
        audit.Action.USER_CREATED,
        client,
        actor_id=actor_id or user.id,
        target_id=user.id,
        details={"username": name, "is_admin": is_admin},
    )
    return user


async def authenticate(
    stores: Stores,
    hasher: Hasher,
    policy: lockout.Policy,
    *,
    username: str,
    password: str,
    client: ClientInfo,
) -> User | None:
    """The user when the password is right and the account usable, else ``None``.

    Every refusal (unknown user, wrong password, locked or disabled account)
    costs one argon2 verification and returns the same ``None``, so neither the
    answer nor its timing tells them apart. Failures are written in the
    caller's transaction, which must commit even when this returns ``None``.
    """
    try:
        key = normalize_username(username)
    except InvalidRequest:
        key = username[:USERNAME_MAX]
    user = await stores.users.by_username(key)
    locked = await lockout.is_locked(stores, key)
    ok = await hasher.verify(user.password_hash if user else None, password)
    if user is None or not ok or locked or not user.active:
        just_locked = False
        if not locked:
            just_locked = await lockout.record_failure(stores, policy, key)
        await audit.record(
            stores,
            audit.Action.LOGIN_FAILED,
            client,
            actor_id=user.id if user else None,
            details={"username": key, "reason": _reason(user, ok, locked)},
        )
        if just_locked:
            await audit.record(
                stores,
                audit.Action.ACCOUNT_LOCKED,
                client,
                target_id=user.id if user else None,
                details={"username": key},
            )
        return None
    await lockout.clear(stores, key)
    if user.password_hash and hasher.needs_rehash(user.password_hash):
        await stores.users.set_password_hash(user.id, await hasher.hash(password))
    return user


def _reason(user: User | None, ok: bool, locked: bool) -> str:
    if user is None:
        return "unknown_user"
    if locked:
        return "locked"
    if not ok:
        return "wrong_password"
    return "disabled"


async def set_password(
    stores: Stores,
    hasher: Hasher,
    user: User,
    password: str,
    *,
    min_length: int,
    actor_id: str | None,
    client: ClientInfo,
) -> None:
    """Set a new password and end every session: a stolen session dies with
    the old password."""
    check_policy(password, min_length=min_length, username=user.username)
    await stores.users.set_password_hash(user.id, await hasher.hash(password))
    await sessions.revoke_all(
        stores,
        user.id,
        reason="password_reset",
        actor_id=actor_id or user.id,
        client=client,
    )
    await audit.record(
        stores,
        audit.Action.PASSWORD_RESET,
        client,
        actor_id=actor_id or user.id,
        target_id=user.id,
    )


LOCAL_OWNER = "owner"


async def local_owner(stores: Stores) -> User:
    """Single-user mode's owner: the first administrator, or a password-less
    ``owner`` account made on first use (nobody can sign in as it; every
    request simply is it)."""
    owner = await stores.users.first_admin()
    if owner is None:
        owner = User(
            id=new_id("usr"),
            username=LOCAL_OWNER,
            email=None,
            is_admin=True,
            password_hash=None,
            created_at=clock.now(),
        )
        await stores.users.add(owner)
    return owner


async def set_active(
    stores: Stores,
    user_id: str,
    active: bool,
    *,
    actor_id: str | None,
    client: ClientInfo,
) -> None:
    """Disable or enable an account. A disabled user's sessions, tokens and keys
    stop working at once: every verifier checks the user, and the cached
    verifications are evicted."""
    if not await stores.users.set_disabled(user_id, None if active else clock.now()):
        raise NotFound("No such user.")
    stores.invalidate(user_id)
    await audit.record(
        stores,
        audit.Action.USER_ENABLED if active else audit.Action.USER_DISABLED,
        client,
        actor_id=actor_id,
        target_id=user_id,
    )
