"""The audit log as the API and the admin console both list it: one page of
entries, newest first, and the cursor to the next (``GET /api/v1/admin/audit``,
``GET /api/v1/orgs/{org}/audit``, ``/admin/audit``)."""

from datetime import datetime
from typing import Any

from authgate.domain.audit import AuditEvent, AuditQuery
from authgate.server.services import Services
from authgate.web.schemas import Page, ResponseBody


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


def audit_out(event: AuditEvent) -> AuditOut:
    return AuditOut(
        id=event.id or 0,
        action=event.action,
        at=event.at,
        actor_id=event.actor_id,
        target_id=event.target_id,
        org_id=event.org_id,
        ip=event.ip,
        user_agent=event.user_agent,
        details=event.details,
    )


async def audit_page(services: Services, query: AuditQuery) -> Page[AuditOut]:
    async with services.db.transaction() as tx:
        events = await tx.audit.query(query)
    items = [audit_out(e) for e in events]
    next_cursor = str(items[-1].id) if len(items) == query.limit else None
    return Page(items=items, next_cursor=next_cursor)
