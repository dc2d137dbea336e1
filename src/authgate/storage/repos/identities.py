from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.domain.identities import ExternalIdentity
from authgate.errors import Conflict
from authgate.storage.models.identities import ExternalIdentityRow, ExternalOrgRow


def _value(row: ExternalIdentityRow) -> ExternalIdentity:
    return ExternalIdentity(
        provider=row.provider,
        subject=row.subject,
        user_id=row.user_id,
        email=row.email,
        created_at=row.created_at,
    )


class IdentityRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, provider: str, subject: str) -> ExternalIdentity | None:
        row = await self._s.get(ExternalIdentityRow, (provider, subject))
        return _value(row) if row else None

    async def add(self, identity: ExternalIdentity) -> None:
        try:
            async with self._s.begin_nested():
                self._s.add(
                    ExternalIdentityRow(
                        provider=identity.provider,
                        subject=identity.subject,
                        user_id=identity.user_id,
                        email=identity.email,
                        created_at=identity.created_at,
                    )
                )
        except IntegrityError as exc:
            raise Conflict("That identity is linked to an account already.") from exc

    async def for_user(self, user_id: str) -> list[ExternalIdentity]:
        rows = await self._s.scalars(
            select(ExternalIdentityRow)
            .where(ExternalIdentityRow.user_id == user_id)
            .order_by(ExternalIdentityRow.created_at)
        )
        return [_value(r) for r in rows]

    async def org(self, provider: str, external_id: str) -> str | None:
        row = await self._s.get(ExternalOrgRow, (provider, external_id))
        return row.org_id if row else None

    async def add_org(
        self, provider: str, external_id: str, org_id: str, at: datetime
    ) -> None:
        try:
            async with self._s.begin_nested():
                self._s.add(
                    ExternalOrgRow(
                        provider=provider,
                        external_id=external_id,
                        org_id=org_id,
                        created_at=at,
                    )
                )
        except IntegrityError as exc:
            raise Conflict("That organization is linked already.") from exc
