"""The audit log: ``GET /api/v1/admin/audit`` for instance administrators (an
org's own log, for its admins, is ``GET /api/v1/orgs/{org}/audit``)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime

from authgate.domain.audit import AuditQuery
from authgate.errors import InvalidRequest
from authgate.web.audit_log import AuditOut, audit_page
from authgate.web.deps import Admin, ServicesDep
from authgate.web.schemas import Page

router = APIRouter(prefix="/admin/audit", tags=["admin"])


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


@router.get("", summary="Read the audit log")
async def audit_log(
    _admin: Admin, services: ServicesDep, query: AuditFilters
) -> Page[AuditOut]:
    return await audit_page(services, query)
