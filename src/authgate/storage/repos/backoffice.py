from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from authgate.domain.backoffice import OrgSummary, UserSummary
from authgate.domain.orgs import Org
from authgate.storage.models.credentials import CredentialRow
from authgate.storage.models.orgs import MembershipRow, OrgRow
from authgate.storage.models.sessions import SessionRow
from authgate.storage.models.users import UserRow
from authgate.storage.repos.users import user_value


class BackOfficeRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def users(self, limit: int, after_id: str | None) -> list[UserSummary]:
        sessions = _count(
            SessionRow.id, SessionRow.user_id, SessionRow.revoked_at.is_(None)
        )
        tokens = _count(
            CredentialRow.id,
            CredentialRow.user_id,
            (CredentialRow.kind == "pat") & CredentialRow.revoked_at.is_(None),
        )
        keys = _count(
            CredentialRow.id,
            CredentialRow.user_id,
            (CredentialRow.kind == "key") & CredentialRow.revoked_at.is_(None),
        )
        statement = (
            select(UserRow, sessions, tokens, keys).order_by(UserRow.id).limit(limit)
        )
        if after_id:
            statement = statement.where(UserRow.id > after_id)
        rows = await self._s.execute(statement)
        return [
            UserSummary(user=user_value(u), sessions=s, access_tokens=t, api_keys=k)
            for u, s, t, k in rows
        ]

    async def orgs(self, limit: int, after_id: str | None) -> list[OrgSummary]:
        members = (
            select(func.count(MembershipRow.user_id))
            .where(MembershipRow.org_id == OrgRow.id)
            .correlate(OrgRow)
            .scalar_subquery()
        )
        keys = (
            select(func.count(CredentialRow.id))
            .where(
                CredentialRow.org_id == OrgRow.id,
                CredentialRow.kind == "key",
                CredentialRow.revoked_at.is_(None),
            )
            .correlate(OrgRow)
            .scalar_subquery()
        )
        statement = select(OrgRow, members, keys).order_by(OrgRow.id).limit(limit)
        if after_id:
            statement = statement.where(OrgRow.id > after_id)
        return [
            OrgSummary(
                org=Org(id=o.id, slug=o.slug, name=o.name, created_at=o.created_at),
                members=m,
                api_keys=k,
            )
            for o, m, k in await self._s.execute(statement)
        ]

    async def stats(self) -> dict[str, int]:
        async def count(
            column: InstrumentedAttribute[str], *where: ColumnElement[bool]
        ) -> int:
            return int(
                await self._s.scalar(select(func.count(column)).where(*where)) or 0
            )

        return {
            "users": await count(UserRow.id),
            "orgs": await count(OrgRow.id),
            "disabled_users": await count(UserRow.id, UserRow.disabled_at.is_not(None)),
            "active_sessions": await count(
                SessionRow.id, SessionRow.revoked_at.is_(None)
            ),
            "access_tokens": await count(
                CredentialRow.id,
                CredentialRow.kind == "pat",
                CredentialRow.revoked_at.is_(None),
            ),
            "api_keys": await count(
                CredentialRow.id,
                CredentialRow.kind == "key",
                CredentialRow.revoked_at.is_(None),
            ),
        }


def _count(
    column: InstrumentedAttribute[str],
    owner: InstrumentedAttribute[str],
    where: ColumnElement[bool],
) -> "ColumnElement[int]":
    """A correlated ``count(*)`` of rows owned by the outer user row."""
    return (
        select(func.count(column))
        .where(owner == UserRow.id, where)
        .correlate(UserRow)
        .scalar_subquery()
    )
