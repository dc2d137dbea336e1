from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.domain import account
from authgate.domain.users import User
from authgate.errors import Conflict
from authgate.storage import prefetched
from authgate.storage.base import table
from authgate.storage.models.users import UserRow


def user_value(row: UserRow | Row[Any]) -> User:
    return User(
        id=row.id,
        username=row.username,
        email=row.email,
        is_admin=row.is_admin,
        password_hash=row.password_hash,
        created_at=row.created_at,
        disabled_at=row.disabled_at,
        default_org_id=row.default_org_id,
        email_verified_at=row.email_verified_at,
        new_email=row.new_email,
    )


_USERS = table(UserRow)
_BY_USERNAME = select(_USERS).where(_USERS.c.username == bindparam("username"))
_BY_ID = select(_USERS).where(_USERS.c.id == bindparam("id"))


class UserRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, user: User) -> None:
        try:
            async with self._s.begin_nested():
                self._s.add(
                    UserRow(
                        id=user.id,
                        username=user.username,
                        email=user.email,
                        email_verified_at=user.email_verified_at,
                        new_email=user.new_email,
                        password_hash=user.password_hash,
                        is_admin=user.is_admin,
                        created_at=user.created_at,
                        disabled_at=user.disabled_at,
                    )
                )
        except IntegrityError as exc:
            raise Conflict("That username or email is taken.") from exc

    async def get(self, user_id: str) -> User | None:
        kept = prefetched.take(self._s, User, user_id)
        if kept is not None:
            return kept
        # Core, not the ORM's identity map: every refresh and grant reads it
        row = (await self._s.execute(_BY_ID, {"id": user_id})).first()
        return user_value(row) if row else None

    async def by_username(self, username: str) -> User | None:
        # Core, not the ORM: every sign-in reads this twice
        row = (await self._s.execute(_BY_USERNAME, {"username": username})).first()
        return user_value(row) if row else None

    async def by_email(self, email: str) -> User | None:
        row = await self._s.scalar(
            select(UserRow)
            .where(func.lower(UserRow.email) == email.lower())
            .order_by(UserRow.created_at)
            .limit(1)
        )
        return user_value(row) if row else None

    async def count(self) -> int:
        return await self._s.scalar(select(func.count()).select_from(UserRow)) or 0

    async def first_admin(self) -> User | None:
        row = await self._s.scalar(
            select(UserRow)
            .where(UserRow.is_admin.is_(True), UserRow.disabled_at.is_(None))
            .order_by(UserRow.created_at)
            .limit(1)
        )
        return user_value(row) if row else None

    async def set_default_org(self, user_id: str, org_id: str | None) -> None:
        await self._s.execute(
            update(UserRow).where(UserRow.id == user_id).values(default_org_id=org_id)
        )

    async def set_default_org_if_unset(self, user_id: str, org_id: str) -> None:
        await self._s.execute(
            update(UserRow)
            .where(UserRow.id == user_id, UserRow.default_org_id.is_(None))
            .values(default_org_id=org_id)
        )

    async def clear_default_org(self, user_id: str, org_id: str) -> None:
        await self._s.execute(
            update(UserRow)
            .where(UserRow.id == user_id, UserRow.default_org_id == org_id)
            .values(default_org_id=None)
        )

    async def set_disabled(self, user_id: str, at: datetime | None) -> bool:
        result = await self._s.execute(
            update(UserRow).where(UserRow.id == user_id).values(disabled_at=at)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        await self._s.execute(
            update(UserRow)
            .where(UserRow.id == user_id)
            .values(password_hash=password_hash)
        )

    async def set_email(
        self, user_id: str, email: str | None, verified_at: datetime | None
    ) -> None:
        try:
            async with self._s.begin_nested():
                await self._s.execute(
                    update(UserRow)
                    .where(UserRow.id == user_id)
                    .values(email=email, email_verified_at=verified_at, new_email=None)
                )
        except IntegrityError as exc:
            raise Conflict(account.TAKEN) from exc

    async def set_new_email(self, user_id: str, email: str | None) -> None:
        await self._s.execute(
            update(UserRow).where(UserRow.id == user_id).values(new_email=email)
        )

    async def set_email_verified(self, user_id: str, at: datetime) -> None:
        await self._s.execute(
            update(UserRow).where(UserRow.id == user_id).values(email_verified_at=at)
        )

    async def set_admin(self, user_id: str, is_admin: bool) -> bool:
        result = await self._s.execute(
            update(UserRow).where(UserRow.id == user_id).values(is_admin=is_admin)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def lock_active_admins(self) -> list[str]:
        # FOR UPDATE on PostgreSQL (after waiting, the WHERE is checked again,
        # so an admin demoted meanwhile drops out); SQLite already holds the
        # write lock (BEGIN IMMEDIATE) and ignores the clause.
        return list(
            await self._s.scalars(
                select(UserRow.id)
                .where(UserRow.is_admin.is_(True), UserRow.disabled_at.is_(None))
                .order_by(UserRow.id)
                .with_for_update()
            )
        )

    async def delete(self, user_id: str) -> bool:
        # The database cascades to the rows that reference the user.
        result = await self._s.execute(delete(UserRow).where(UserRow.id == user_id))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def search(
        self, text: str | None, *, limit: int, after: str | None
    ) -> list[User]:
        statement = select(UserRow).order_by(UserRow.username).limit(limit)
        if text:
            needle = text.lower()
            statement = statement.where(
                or_(
                    UserRow.username.contains(needle, autoescape=True),
                    func.lower(UserRow.email).contains(needle, autoescape=True),
                )
            )
        if after:
            statement = statement.where(UserRow.username > after)
        return [user_value(row) for row in await self._s.scalars(statement)]
