from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.domain.totp import TotpFactor
from authgate.storage.models.factors import TotpFactorRow as Row


def _factor(row: Row) -> TotpFactor:
    return TotpFactor(
        user_id=row.user_id,
        sealed_secret=row.secret,
        created_at=row.created_at,
        confirmed_at=row.confirmed_at,
        last_step=row.last_step,
    )


class TotpRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, user_id: str) -> TotpFactor | None:
        row = await self._s.get(Row, user_id, populate_existing=True)
        return _factor(row) if row else None

    async def sealed_secrets(self) -> list[tuple[str, bytes]]:
        rows = await self._s.execute(select(Row.user_id, Row.secret))
        return [(user_id, secret) for user_id, secret in rows]

    async def replace_sealed(self, user_id: str, sealed_secret: bytes) -> None:
        await self._s.execute(
            update(Row)
            .where(Row.user_id == user_id)
            .values(secret=sealed_secret)
            .execution_options(synchronize_session=False)
        )

    async def put_unconfirmed(self, factor: TotpFactor) -> bool:
        # One upsert: a confirmed row is left alone (no row returned), and two
        # racing enrolments cannot both insert.
        insert = (
            postgresql.insert
            if self._s.get_bind().dialect.name == "postgresql"
            else sqlite.insert
        )
        values = insert(Row).values(
            user_id=factor.user_id,
            secret=factor.sealed_secret,
            created_at=factor.created_at,
            confirmed_at=None,
            last_step=None,
        )
        statement = values.on_conflict_do_update(
            index_elements=[Row.user_id],
            set_={
                "secret": values.excluded.secret,
                "created_at": values.excluded.created_at,
                "last_step": None,
            },
            where=Row.confirmed_at.is_(None),
        ).returning(Row.user_id)
        return (await self._s.execute(statement)).first() is not None

    async def confirm(self, user_id: str, at: datetime, step: int) -> bool:
        result = await self._s.execute(
            update(Row)
            .where(Row.user_id == user_id, Row.confirmed_at.is_(None))
            .values(confirmed_at=at, last_step=step)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def use_step(self, user_id: str, step: int) -> bool:
        # Conditional: of two requests with one code, the second waits for the
        # first's row lock, re-reads last_step, and matches nothing.
        result = await self._s.execute(
            update(Row)
            .where(
                Row.user_id == user_id,
                Row.confirmed_at.is_not(None),
                or_(Row.last_step.is_(None), Row.last_step < step),
            )
            .values(last_step=step)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def delete(self, user_id: str) -> bool:
        result = await self._s.execute(delete(Row).where(Row.user_id == user_id))
        return bool(result.rowcount)  # type: ignore[attr-defined]
