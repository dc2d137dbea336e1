from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.domain.invites import Invite
from authgate.storage.models.invites import InviteRow as Row


def _value(row: Row) -> Invite:
    return Invite(
        id=row.id,
        created_by=row.created_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
        used_by=row.used_by,
        revoked_at=row.revoked_at,
        org_id=row.org_id,
        email=row.email,
        role=row.role,
    )


class InviteRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, invite: Invite, code_hash: str) -> None:
        self._s.add(
            Row(
                id=invite.id,
                code_hash=code_hash,
                created_by=invite.created_by,
                created_at=invite.created_at,
                expires_at=invite.expires_at,
                org_id=invite.org_id,
                email=invite.email,
                role=invite.role,
            )
        )
        await self._s.flush()

    async def by_code_hash(self, code_hash: str) -> Invite | None:
        row = await self._s.scalar(select(Row).where(Row.code_hash == code_hash))
        return _value(row) if row else None

    async def get(self, invite_id: str) -> Invite | None:
        row = await self._s.get(Row, invite_id)
        return _value(row) if row else None

    async def all(self, org_id: str | None = None) -> list[Invite]:
        owner = Row.org_id.is_(None) if org_id is None else Row.org_id == org_id
        rows = await self._s.scalars(
            select(Row).where(owner).order_by(Row.created_at.desc())
        )
        return [_value(r) for r in rows]

    async def mark_used(self, invite_id: str, user_id: str, at: datetime) -> bool:
        result = await self._s.execute(
            update(Row)
            .where(Row.id == invite_id, Row.used_at.is_(None), Row.revoked_at.is_(None))
            .values(used_at=at, used_by=user_id)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def revoke(self, invite_id: str, at: datetime) -> bool:
        result = await self._s.execute(
            update(Row)
            .where(Row.id == invite_id, Row.used_at.is_(None), Row.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
