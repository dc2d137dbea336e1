"""Users, their sign-in failure counters, recovery keys and upstream links."""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from authgate.domain import account
from authgate.domain.identities import ExternalIdentity
from authgate.domain.lockout import Failures
from authgate.domain.users import User
from authgate.errors import Conflict


class MemoryUsers:
    def __init__(self) -> None:
        self.rows: dict[str, User] = {}

    def _taken(self, user_id: str, *, username: str, email: str | None) -> bool:
        """The ``users`` table's unique username and email (NULLs never clash)."""
        return any(
            other.id != user_id
            and (
                other.username == username
                or (email is not None and other.email == email)
            )
            for other in self.rows.values()
        )

    async def add(self, user: User) -> None:
        if user.id in self.rows or self._taken(
            user.id, username=user.username, email=user.email
        ):
            raise Conflict("That username or email is taken.")
        self.rows[user.id] = replace(user, default_org_id=None)

    async def get(self, user_id: str) -> User | None:
        return self.rows.get(user_id)

    async def by_username(self, username: str) -> User | None:
        return next((u for u in self.rows.values() if u.username == username), None)

    async def by_email(self, email: str) -> User | None:
        wanted = email.lower()
        found = [u for u in self.rows.values() if (u.email or "").lower() == wanted]
        return min(found, key=lambda u: u.created_at, default=None)

    async def count(self) -> int:
        return len(self.rows)

    async def first_admin(self) -> User | None:
        admins = [u for u in self.rows.values() if u.is_admin and u.active]
        return min(admins, key=lambda u: u.created_at, default=None)

    def _change(self, user_id: str, change: Callable[[User], User]) -> bool:
        """An ``UPDATE … WHERE id = :user_id``; whether a row matched."""
        user = self.rows.get(user_id)
        if user is None:
            return False
        self.rows[user_id] = change(user)
        return True

    async def set_default_org(self, user_id: str, org_id: str | None) -> None:
        self._change(user_id, lambda u: replace(u, default_org_id=org_id))

    async def set_default_org_if_unset(self, user_id: str, org_id: str) -> None:
        user = self.rows.get(user_id)
        if user is not None and user.default_org_id is None:
            self._change(user_id, lambda u: replace(u, default_org_id=org_id))

    async def clear_default_org(self, user_id: str, org_id: str) -> None:
        user = self.rows.get(user_id)
        if user is not None and user.default_org_id == org_id:
            self._change(user_id, lambda u: replace(u, default_org_id=None))

    async def set_disabled(self, user_id: str, at: datetime | None) -> bool:
        return self._change(user_id, lambda u: replace(u, disabled_at=at))

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        self._change(user_id, lambda u: replace(u, password_hash=password_hash))

    async def set_email(
        self, user_id: str, email: str | None, verified_at: datetime | None
    ) -> None:
        user = self.rows.get(user_id)
        if user is None:
            return
        if self._taken(user_id, username=user.username, email=email):
            raise Conflict(account.TAKEN)
        self._change(
            user_id,
            lambda u: replace(
                u, email=email, email_verified_at=verified_at, new_email=None
            ),
        )

    async def set_new_email(self, user_id: str, email: str | None) -> None:
        self._change(user_id, lambda u: replace(u, new_email=email))

    async def set_email_verified(self, user_id: str, at: datetime) -> None:
        self._change(user_id, lambda u: replace(u, email_verified_at=at))

    async def set_admin(self, user_id: str, is_admin: bool) -> bool:
        return self._change(user_id, lambda u: replace(u, is_admin=is_admin))

    async def lock_active_admins(self) -> list[str]:
        return sorted(u.id for u in self.rows.values() if u.is_admin and u.active)

    async def delete(self, user_id: str) -> bool:
        return self.rows.pop(user_id, None) is not None

    async def search(
        self, text: str | None, *, limit: int, after: str | None
    ) -> list[User]:
        needle = text.lower() if text else None
        found = [
            u
            for u in self.rows.values()
            if (
                needle is None
                or needle in u.username
                or needle in (u.email or "").lower()
            )
            and (not after or u.username > after)
        ]
        return sorted(found, key=lambda u: u.username)[:limit]


@dataclass(slots=True)
class _Failures:
    count: int
    window_started_at: datetime
    locked_until: datetime | None = None


class MemoryLockout:
    def __init__(self) -> None:
        self.rows: dict[str, _Failures] = {}

    async def find(self, key: str) -> Failures | None:
        row = self.rows.get(key)
        return Failures(locked_until=row.locked_until) if row else None

    async def add_failure(self, key: str, now: datetime, window: timedelta) -> int:
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = _Failures(count=0, window_started_at=now)
        if row.window_started_at <= now - window:
            row.count, row.window_started_at = 0, now
        row.count += 1
        return row.count

    async def lock(self, key: str, until: datetime) -> None:
        row = self.rows.get(key)
        if row is not None:
            row.locked_until, row.count = until, 0

    async def clear(self, key: str) -> None:
        self.rows.pop(key, None)

    async def prune(self, before: datetime, limit: int) -> int:
        gone = [
            key
            for key, row in self.rows.items()
            if row.window_started_at < before
            and (row.locked_until is None or row.locked_until < before)
        ][:limit]
        for key in gone:
            del self.rows[key]
        return len(gone)


class MemoryRecoveryKeys:
    def __init__(self) -> None:
        #: user id → (key hash, created at): at most one key per user
        self.rows: dict[str, tuple[str, datetime]] = {}

    async def put(self, user_id: str, key_hash: str, at: datetime) -> None:
        self.rows[user_id] = (key_hash, at)

    async def consume(self, user_id: str, key_hash: str) -> bool:
        row = self.rows.get(user_id)
        if row is None or row[0] != key_hash:
            return False
        del self.rows[user_id]
        return True


class MemoryIdentities:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], ExternalIdentity] = {}
        #: (provider, external org id) → Authgate org id
        self.orgs: dict[tuple[str, str], str] = {}

    async def get(self, provider: str, subject: str) -> ExternalIdentity | None:
        return self.rows.get((provider, subject))

    async def add(self, identity: ExternalIdentity) -> None:
        key = (identity.provider, identity.subject)
        if key in self.rows:
            raise Conflict("That identity is linked to an account already.")
        self.rows[key] = identity

    async def for_user(self, user_id: str) -> list[ExternalIdentity]:
        found = [i for i in self.rows.values() if i.user_id == user_id]
        return sorted(found, key=lambda i: i.created_at)

    async def org(self, provider: str, external_id: str) -> str | None:
        return self.orgs.get((provider, external_id))

    async def add_org(
        self, provider: str, external_id: str, org_id: str, at: datetime
    ) -> None:
        if (provider, external_id) in self.orgs:
            raise Conflict("That organization is linked already.")
        self.orgs[(provider, external_id)] = org_id
