"""Local accounts: who may register, how a username is normalised, and
password sign-in."""

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from email_validator import EmailNotValidError, validate_email

from authgate.domain import audit, lockout, sessions
from authgate.domain.context import Peer
from authgate.domain.credentials import CredentialStore
from authgate.domain.passwords import Hasher, check_policy
from authgate.errors import Conflict, InvalidRequest, NotFound
from authgate.util import clock
from authgate.util.ids import new_id

USERNAME_MAX = 64
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


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
    #: when ``email`` was proved to be theirs (``domain.verification``)
    email_verified_at: datetime | None = None
    #: an address asked for, waiting for its link to be followed; ``email``
    #: (and whether it is verified) stays until then
    new_email: str | None = None

    @property
    def active(self) -> bool:
        return self.disabled_at is None

    @property
    def email_verified(self) -> bool:
        return self.email is not None and self.email_verified_at is not None


class UserStore(Protocol):
    async def add(self, user: User) -> None:
        """Insert; raise ``Conflict`` when the username or email is taken."""

    async def get(self, user_id: str) -> User | None: ...

    async def by_username(self, username: str) -> User | None:
        """Look up by normalised username."""

    async def by_email(self, email: str) -> User | None:
        """Look up by email address, ignoring case."""

    async def count(self) -> int: ...

    async def first_admin(self) -> User | None:
        """The earliest-created active administrator."""

    async def set_password_hash(self, user_id: str, password_hash: str) -> None: ...

    async def set_email(
        self, user_id: str, email: str | None, verified_at: datetime | None
    ) -> None:
        """Set the address and when it was verified (``None``: not), and drop
        any new address waiting; raise ``Conflict`` when another account has
        the address."""

    async def set_new_email(self, user_id: str, email: str | None) -> None:
        """The address asked for, waiting for its verification (``None``:
        none); ``email`` is left as it is."""

    async def set_email_verified(self, user_id: str, at: datetime) -> None: ...

    async def set_default_org(self, user_id: str, org_id: str | None) -> None: ...

    async def set_default_org_if_unset(self, user_id: str, org_id: str) -> None: ...

    async def clear_default_org(self, user_id: str, org_id: str) -> None:
        """Unset the default org if it is ``org_id``."""

    async def set_disabled(self, user_id: str, at: datetime | None) -> bool:
        """Disable (``at``) or enable (``None``); ``False`` when the user is missing."""

    async def set_admin(self, user_id: str, is_admin: bool) -> bool:
        """Grant or revoke instance administration; ``False`` when the user is
        missing."""

    async def lock_active_admins(self) -> list[str]:
        """Ids of the active administrators, their rows locked until the
        transaction ends, so two transactions that each remove one admin are
        decided one after the other."""

    async def delete(self, user_id: str) -> bool:
        """Remove the account's row; the rows that belong to it (sessions,
        tokens, factors, passkeys, identities, consents, memberships) go with
        it. ``False`` when there was none."""

    async def search(
        self, text: str | None, *, limit: int, after: str | None
    ) -> list[User]:
        """Users ordered by username, after the username ``after``; with
        ``text``, only those whose username or email contains it (ignoring
        case; ``%`` and ``_`` match themselves)."""


class Tx(sessions.Tx, lockout.Tx, Protocol):
    @property
    def users(self) -> UserStore: ...
    @property
    def credentials(self) -> CredentialStore: ...


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
    """The address as stored and compared: syntax by ``email-validator`` (what
    pydantic's ``EmailStr`` uses), without a DNS lookup; the domain lowered
    and IDNA-normalised, the mailbox kept as typed (RFC 5321 §2.4 lets a server
    tell ``Ada`` from ``ada``). It refuses control and format characters (NUL,
    bidi overrides, zero-width spaces), which would let one address display as
    another, and special-use domains (``.local``, ``.test``, ``localhost``)
    that mail cannot reach."""
    if raw is None or not raw.strip():
        return None
    try:
        checked = validate_email(
            unicodedata.normalize("NFKC", raw).strip(), check_deliverability=False
        )
    except EmailNotValidError as error:
        raise InvalidRequest(f"Email address is not valid. {error}") from None
    return checked.normalized


@dataclass(frozen=True, slots=True)
class NewAccount:
    """A new account's name, address and password, checked and the password
    hashed by :func:`prepare` before any transaction opens: the ~40 ms argon2
    hash then holds no database write lock (on SQLite, every other writer would
    wait for it)."""

    username: str
    email: str | None
    password_hash: str


async def prepare(
    hasher: Hasher, *, username: str, password: str, email: str | None, min_length: int
) -> NewAccount:
    """Step 1 of creating an account, outside any transaction: every check that
    needs no database, then the hash."""
    name = normalize_username(username)
    address = normalize_email(email)
    password_hash = await hash_password(
        hasher, password, username=name, min_length=min_length
    )
    return NewAccount(username=name, email=address, password_hash=password_hash)


async def add(
    stores: Tx,
    account: NewAccount,
    *,
    is_admin: bool,
    actor_id: str | None,
    peer: Peer,
    email_verified: bool = False,
) -> User:
    """Step 2, in the write transaction: store the account and audit it.
    ``email_verified``: an administrator vouches for the address."""
    if await stores.users.by_username(account.username) is not None:
        raise Conflict("That username is taken.")
    if email_verified and account.email is None:
        raise InvalidRequest("Only an email address can be verified; give one.")
    now = clock.now()
    user = User(
        id=new_id("usr"),
        username=account.username,
        email=account.email,
        is_admin=is_admin,
        password_hash=account.password_hash,
        created_at=now,
        email_verified_at=now if email_verified else None,
    )
    await stores.users.add(user)
    await audit.record(
        stores,
        audit.Action.USER_CREATED,
        peer,
        actor_id=actor_id or user.id,
        target_id=user.id,
        details={"username": account.username, "is_admin": is_admin},
    )
    return user


@dataclass(frozen=True, slots=True)
class SignIn:
    """A password sign-in in progress. The argon2 check runs between two
    transactions, so no transaction (on SQLite: no database write lock) is held
    for the ~40 ms it takes; :func:`finish_sign_in` re-reads everything it
    decides on under the write transaction."""

    key: str  #: normalised username: the lockout key
    user: User | None
    password_ok: bool = False
    #: the password hashed at the current parameters, when the stored hash is
    #: outdated (computed outside the transaction too)
    new_hash: str | None = None


async def begin_sign_in(stores: Tx, username: str) -> SignIn:
    """Step 1, read-only: whom the username names."""
    try:
        key = normalize_username(username)
    except InvalidRequest:
        key = username[:USERNAME_MAX]
    return SignIn(key=key, user=await stores.users.by_username(key))


async def check_password(hasher: Hasher, attempt: SignIn, password: str) -> SignIn:
    """Step 2, outside any transaction: one argon2 verification whoever the
    user is (a dummy hash for unknown names), so timing tells nothing."""
    password_hash = attempt.user.password_hash if attempt.user else None
    ok = await hasher.verify(password_hash, password)
    new_hash = None
    if ok and password_hash is not None and hasher.needs_rehash(password_hash):
        new_hash = await hasher.hash(password)
    return SignIn(attempt.key, attempt.user, password_ok=ok, new_hash=new_hash)


async def finish_sign_in(
    stores: Tx,
    policy: lockout.Policy,
    attempt: SignIn,
    *,
    peer: Peer,
    second_step: bool = False,
) -> User | None:
    """Step 3, in the write transaction: the user when the password was right
    and the account is usable, else ``None``.

    Every refusal (unknown user, wrong password, locked or disabled account)
    returns the same ``None`` after the same work, so neither the answer nor
    its timing tells them apart. The lock and the user are read again here, so
    concurrent attempts are decided one at a time, as if serialised; a password
    changed since step 1 voids the check. Failures are written in the caller's
    transaction, which must commit even when this returns ``None``.
    With ``second_step`` (the account has a second factor) the failure count
    is left for the second step to clear (``domain.factors``), so a known
    password cannot reset it between guessed codes.
    """
    key = attempt.key
    user = await stores.users.by_username(key)
    ok = (
        attempt.password_ok
        and user is not None
        and attempt.user is not None
        and user.id == attempt.user.id
        and user.password_hash == attempt.user.password_hash
    )
    failures = await stores.lockout.find(key)
    locked = failures is not None and failures.locked()
    if user is None or not ok or locked or not user.active:
        just_locked = False
        if not locked:
            just_locked = await lockout.record_failure(stores, policy, key)
        await audit.record(
            stores,
            audit.Action.LOGIN_FAILED,
            peer,
            actor_id=user.id if user else None,
            details={"username": key, "reason": _reason(user, ok, locked)},
        )
        if just_locked:
            await audit.record(
                stores,
                audit.Action.ACCOUNT_LOCKED,
                peer,
                target_id=user.id if user else None,
                details={"username": key},
            )
        return None
    if failures is not None and not second_step:
        await stores.lockout.clear(key)
    if attempt.new_hash is not None:
        await stores.users.set_password_hash(user.id, attempt.new_hash)
    return user


def _reason(user: User | None, ok: bool, locked: bool) -> str:
    if user is None:
        return "unknown_user"
    if locked:
        return "locked"
    if not ok:
        return "wrong_password"
    return "disabled"


async def hash_password(
    hasher: Hasher, password: str, *, username: str, min_length: int
) -> str:
    """The policy check, then the hash; callers run it before their write
    transaction opens where they can (see :class:`NewAccount`)."""
    check_policy(password, min_length=min_length, username=username)
    return await hasher.hash(password)


async def replace_password(
    stores: Tx,
    user: User,
    password_hash: str,
    *,
    actor_id: str | None,
    access_ttl: timedelta,
    peer: Peer,
) -> None:
    """Store a hash made by :func:`hash_password` and end every login (sessions
    and OAuth grants): a stolen session or refresh token dies with the old
    password."""
    await stores.users.set_password_hash(user.id, password_hash)
    stores.invalidate(user.id)  # cached copies of the user hold the old hash
    await sessions.end_logins(
        stores,
        user.id,
        reason="password_reset",
        actor_id=actor_id,
        access_ttl=access_ttl,
        peer=peer,
    )
    await audit.record(
        stores,
        audit.Action.PASSWORD_RESET,
        peer,
        actor_id=actor_id or user.id,
        target_id=user.id,
    )


LOCAL_OWNER = "owner"


async def local_owner(stores: Tx) -> User:
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
    stores: Tx,
    user_id: str,
    active: bool,
    *,
    actor_id: str | None,
    access_ttl: timedelta,
    peer: Peer,
) -> None:
    """Disable or enable an account. A disabled user's sessions, tokens and keys
    stop working at once: every verifier checks the user, and the cached
    verifications are evicted. Disabling also ends every login (sessions and
    OAuth grants) for good, so enabling the account again brings none back;
    PATs and API keys stay, refused while the account is disabled (the back
    office's ``revoke-credentials`` ends those)."""
    if not active:
        await _keep_an_admin(stores, user_id)
    if not await stores.users.set_disabled(user_id, None if active else clock.now()):
        raise NotFound("No such user.")
    stores.invalidate(user_id)
    if not active:
        await sessions.end_logins(
            stores,
            user_id,
            reason="disabled",
            actor_id=actor_id,
            access_ttl=access_ttl,
            peer=peer,
        )
    await audit.record(
        stores,
        audit.Action.USER_ENABLED if active else audit.Action.USER_DISABLED,
        peer,
        actor_id=actor_id,
        target_id=user_id,
    )


async def disable(
    stores: Tx,
    user_id: str,
    *,
    actor_id: str | None,
    access_ttl: timedelta,
    peer: Peer,
) -> None:
    """Disable an account and revoke everything it holds (sessions, tokens,
    keys), as the admin console and the admin API do: enabled again, the
    account starts afresh, holding nothing from before. (The back office keeps
    the two steps apart.)"""
    await set_active(
        stores, user_id, False, actor_id=actor_id, access_ttl=access_ttl, peer=peer
    )
    await revoke_everything(
        stores, user_id, actor_id=actor_id, access_ttl=access_ttl, peer=peer
    )


async def revoke_everything(
    stores: Tx,
    user_id: str,
    *,
    actor_id: str | None,
    access_ttl: timedelta,
    peer: Peer,
) -> dict[str, int]:
    """End every login (sessions, OAuth grants) and revoke every token and key
    of a user (back office)."""
    if await stores.users.get(user_id) is None:
        raise NotFound("No such user.")
    revoked = await stores.credentials.revoke_all_for_user(user_id, clock.now())
    ended = await sessions.end_logins(
        stores,
        user_id,
        reason="admin_revoke",
        actor_id=actor_id,
        access_ttl=access_ttl,
        peer=peer,
    )
    stores.invalidate(user_id, *revoked)
    await audit.record(
        stores,
        audit.Action.CREDENTIALS_REVOKED,
        peer,
        actor_id=actor_id,
        target_id=user_id,
        details={
            "credentials": revoked,
            "sessions": len(ended.sessions),
            "grants": len(ended.grants),
        },
    )
    return {
        "credentials": len(revoked),
        "sessions": len(ended.sessions),
        "grants": len(ended.grants),
    }


async def remove(stores: Tx, user: User) -> None:
    """Remove the account's row, and with it every row that belongs to it
    (``domain.deletion`` ends and revokes what it held first); never the last
    active administrator's."""
    if user.is_admin and user.active:
        await _keep_an_admin(stores, user.id)
    if not await stores.users.delete(user.id):
        raise NotFound("No such user.")


async def set_admin(
    stores: Tx,
    user_id: str,
    is_admin: bool,
    *,
    actor_id: str | None,
    peer: Peer,
) -> None:
    """Grant or revoke instance administration. The user's cached
    verifications carry the role, so they are evicted: the change holds from
    their next request."""
    if not is_admin:
        await _keep_an_admin(stores, user_id)
    if not await stores.users.set_admin(user_id, is_admin):
        raise NotFound("No such user.")
    stores.invalidate(user_id)
    await audit.record(
        stores,
        audit.Action.ADMIN_GRANTED if is_admin else audit.Action.ADMIN_REVOKED,
        peer,
        actor_id=actor_id,
        target_id=user_id,
    )


LAST_ADMIN = (
    "This is the last active administrator: make someone else an administrator "
    "first, so the instance is never left without one."
)


async def _keep_an_admin(stores: Tx, user_id: str) -> None:
    """Refuse to disable, demote or delete the last active administrator. The
    admins' rows are locked first, so when two admins demote each other at
    once the second sees the first's change and is refused."""
    if await stores.users.lock_active_admins() == [user_id]:
        raise Conflict(LAST_ADMIN)
