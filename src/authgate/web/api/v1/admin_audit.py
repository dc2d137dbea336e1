"""The audit log: ``GET /api/v1/admin/audit`` for instance administrators (an
org's own log, for its admins, is ``GET /api/v1/orgs/{org}/audit``)."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime

from authgate.domain.audit import AuditQuery
from authgate.errors import InvalidRequest
from authgate.server.services import Services
from authgate.web.deps import Admin, ServicesDep
from authgate.web.schemas import Page, ResponseBody

router = APIRouter(prefix="/admin/audit", tags=["admin"])


class AuditOut(ResponseBody):
    id: int
    action: str
    at: datetime
    actor_id: str | None
    target_id: str | None
    org_id: str | None
    ip: str | None
    user_agent: str | None
    details: dict[str, Any]


def audit_filters(
    user: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    org_filter: Annotated[str | None, Query(alias="org", max_length=64)] = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    cursor: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AuditQuery:
    if cursor is not None and (not cursor.isdigit() or len(cursor) > 18):
        raise InvalidRequest("The cursor is not valid.")
    return AuditQuery(
        user_id=user,
        action=action,
        org_id=org_filter,
        since=since,
        until=until,
        before_id=int(cursor) if cursor is not None else None,
        limit=limit,
    )


AuditFilters = Annotated[AuditQuery, Depends(audit_filters)]


async def audit_page(services: Services, query: AuditQuery) -> Page[AuditOut]:
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
    next_cursor = str(items[-1].id) if len(items) == query.limit else None
    return Page(items=items, next_cursor=next_cursor)


@router.get("")
async def audit_log(
    _admin: Admin, services: ServicesDep, query: AuditFilters
) -> Page[AuditOut]:
    return await audit_page(services, query)
