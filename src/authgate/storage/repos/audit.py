from datetime import datetime

from sqlalchemy import delete, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.domain.audit import AuditEvent, AuditQuery
from authgate.storage.base import table
from authgate.storage.models.audit import AuditRow as Row


def _value(row: Row) -> AuditEvent:
    return AuditEvent(
        id=row.id,
        action=row.action,
        at=row.at,
        actor_id=row.actor_id,
        target_id=row.target_id,
        org_id=row.org_id,
        ip=row.ip,
        user_agent=row.user_agent,
        details=row.details or {},
    )


#: A Core insert (most requests that change anything write one).
_INSERT = insert(table(Row))


class AuditRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session
        #: The events this transaction wrote, for ``Database.on_audited``.
        self.added: list[AuditEvent] = []

    async def add(self, event: AuditEvent) -> None:
        self.added.append(event)
        await self._s.execute(
            _INSERT,
            {
                "action": event.action,
                "at": event.at,
                "actor_id": event.actor_id,
                "target_id": event.target_id,
                "org_id": event.org_id,
                "ip": event.ip,
                "user_agent": event.user_agent,
                "details": event.details,
            },
        )

    async def query(self, query: AuditQuery) -> list[AuditEvent]:
        statement = select(Row).order_by(Row.id.desc()).limit(query.limit)
        if query.user_id:
            statement = statement.where(
                or_(Row.actor_id == query.user_id, Row.target_id == query.user_id)
            )
        if query.action:
            statement = statement.where(Row.action == query.action)
        if query.org_id:
            statement = statement.where(Row.org_id == query.org_id)
        if query.since:
            statement = statement.where(Row.at >= query.since)
        if query.until:
            statement = statement.where(Row.at < query.until)
        if query.before_id is not None:
            statement = statement.where(Row.id < query.before_id)
        return [_value(r) for r in await self._s.scalars(statement)]

    async def prune(self, before: datetime, limit: int) -> int:
        batch = select(Row.id).where(Row.at < before).order_by(Row.id).limit(limit)
        result = await self._s.execute(delete(Row).where(Row.id.in_(batch)))
        return int(result.rowcount)  # type: ignore[attr-defined]
