from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.domain.orgs import Member, Membership, Org
from authgate.errors import Conflict
from authgate.storage.models.orgs import MembershipRow, OrgRow
from authgate.storage.models.users import UserRow


def _org(row: OrgRow) -> Org:
    return Org(
        id=row.id,
        slug=row.slug,
        name=row.name,
        created_at=row.created_at,
        require_mfa=row.require_mfa,
    )


def _membership(org: OrgRow, member: MembershipRow) -> Membership:
    return Membership(
        org=_org(org),
        user_id=member.user_id,
        role=member.role,
        created_at=member.created_at,
    )


class OrgRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, org: Org) -> None:
        try:
            async with self._s.begin_nested():
                self._s.add(
                    OrgRow(
                        id=org.id,
                        slug=org.slug,
                        name=org.name,
                        created_at=org.created_at,
                        require_mfa=org.require_mfa,
                    )
                )
        except IntegrityError as exc:
            raise Conflict("That organization slug is taken.") from exc

    async def find(self, id_or_slug: str) -> Org | None:
        row = await self._s.scalar(
            select(OrgRow).where(
                or_(OrgRow.id == id_or_slug, OrgRow.slug == id_or_slug)
            )
        )
        return _org(row) if row else None

    async def lock(self, org_id: str) -> None:
        # FOR UPDATE on PostgreSQL; SQLite already holds the write lock
        # (BEGIN IMMEDIATE) and ignores the clause.
        await self._s.execute(
            select(OrgRow.id).where(OrgRow.id == org_id).with_for_update()
        )

    async def update(
        self, org_id: str, *, name: str, slug: str, require_mfa: bool
    ) -> None:
        try:
            async with self._s.begin_nested():
                await self._s.execute(
                    update(OrgRow)
                    .where(OrgRow.id == org_id)
                    .values(name=name, slug=slug, require_mfa=require_mfa)
                )
        except IntegrityError as exc:
            raise Conflict("That organization slug is taken.") from exc

    async def delete(self, org_id: str) -> None:
        await self._s.execute(
            delete(MembershipRow).where(MembershipRow.org_id == org_id)
        )
        await self._s.execute(delete(OrgRow).where(OrgRow.id == org_id))

    async def memberships(self, user_id: str) -> list[Membership]:
        rows = await self._s.execute(
            select(OrgRow, MembershipRow)
            .join(MembershipRow, MembershipRow.org_id == OrgRow.id)
            .where(MembershipRow.user_id == user_id)
            .order_by(MembershipRow.created_at)
        )
        return [_membership(o, m) for o, m in rows]

    async def membership(self, org_id: str, user_id: str) -> Membership | None:
        row = (
            await self._s.execute(
                select(OrgRow, MembershipRow)
                .join(MembershipRow, MembershipRow.org_id == OrgRow.id)
                .where(MembershipRow.org_id == org_id, MembershipRow.user_id == user_id)
            )
        ).first()
        return _membership(row[0], row[1]) if row else None

    async def members(self, org_id: str) -> list[Member]:
        rows = await self._s.execute(
            select(
                MembershipRow.user_id,
                UserRow.username,
                UserRow.email,
                MembershipRow.role,
            )
            .join(UserRow, UserRow.id == MembershipRow.user_id)
            .where(MembershipRow.org_id == org_id)
            .order_by(MembershipRow.created_at)
        )
        return [Member(user_id=u, username=n, email=e, role=r) for u, n, e, r in rows]

    async def add_member(
        self, org_id: str, user_id: str, role: str, at: datetime
    ) -> bool:
        try:
            async with self._s.begin_nested():
                self._s.add(
                    MembershipRow(
                        org_id=org_id, user_id=user_id, role=role, created_at=at
                    )
                )
        except IntegrityError:
            return False
        return True

    async def set_role(self, org_id: str, user_id: str, role: str) -> None:
        await self._s.execute(
            update(MembershipRow)
            .where(MembershipRow.org_id == org_id, MembershipRow.user_id == user_id)
            .values(role=role)
        )

    async def remove_member(self, org_id: str, user_id: str) -> None:
        await self._s.execute(
            delete(MembershipRow).where(
                MembershipRow.org_id == org_id, MembershipRow.user_id == user_id
            )
        )

    async def count_owners(self, org_id: str) -> int:
        count = await self._s.scalar(
            select(func.count())
            .select_from(MembershipRow)
            .where(MembershipRow.org_id == org_id, MembershipRow.role == "owner")
        )
        return int(count or 0)

    async def member_ids(self, org_id: str) -> list[str]:
        return list(
            await self._s.scalars(
                select(MembershipRow.user_id).where(MembershipRow.org_id == org_id)
            )
        )
