"""The audit log, for administrators: ``GET /api/v1/admin/audit``."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from authgate.domain.audit import AuditQuery
from authgate.errors import InvalidRequest
from authgate.web.deps import Admin, ServicesDep
from authgate.web.schemas import ApiModel, Page

router = APIRouter(prefix="/admin/audit", tags=["admin"])


class AuditOut(ApiModel):
    id: int
    action: str
    at: datetime
    actor_id: str | None
    target_id: str | None
    org_id: str | None
    ip: str | None
    user_agent: str | None
    details: dict[str, Any]


def parse_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    if not cursor.isdigit() or len(cursor) > 19:
        raise InvalidRequest("The cursor is not valid.")
    return int(cursor)


@router.get("")
async def audit_log(
    _admin: Admin,
    services: ServicesDep,
    user: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    org: Annotated[str | None, Query(max_length=64)] = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    cursor: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[AuditOut]:
    query = AuditQuery(
        user_id=user,
        action=action,
        org_id=org,
        since=since,
        until=until,
        before_id=parse_cursor(cursor),
        limit=limit,
    )
    async with services.db.transaction() as tx:
        events = await tx.audit.query(query)
    items = [
        AuditOut(
            id=e.id or 0,
            action=e.action,
            at=e.at,
            actor_id=e.actor_id,
            target_id=e.target_id,
            org_id=e.org_id,
            ip=e.ip,
            user_agent=e.user_agent,
            details=e.details,
        )
        for e in events
    ]
    next_cursor = str(items[-1].id) if len(items) == limit else None
    return Page(items=items, next_cursor=next_cursor)
