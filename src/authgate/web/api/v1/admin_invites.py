"""Instance invites, for administrators: ``/api/v1/admin/invites``."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Response, status
from pydantic import Field

from authgate.domain import invite_mail, invites
from authgate.server.mailing import mailing
from authgate.web.deps import Admin, PeerDep, ServicesDep
from authgate.web.schemas import Page, RequestBody, ResponseBody, failures

router = APIRouter(prefix="/admin/invites", tags=["admin"])


class InstanceInviteIn(RequestBody):
    expires_in_days: Annotated[int | None, Field(ge=1, le=invites.MAX_DAYS)] = None
    #: whom it is for: mailed a link to register with it
    email: Annotated[str | None, Field(max_length=320)] = None


class InstanceInviteCreated(ResponseBody):
    id: str
    code: str
    expires_at: datetime | None


class InviteOut(ResponseBody):
    id: str
    created_by: str | None
    created_at: datetime
    expires_at: datetime | None
    used_at: datetime | None
    used_by: str | None
    email: str | None
    status: str


@router.post(
    "", status_code=status.HTTP_201_CREATED, summary="Create an instance invite"
)
async def create_invite(
    admin: Admin,
    services: ServicesDep,
    peer: PeerDep,
    body: InstanceInviteIn | None = None,
) -> InstanceInviteCreated:
    async with services.db.transaction() as tx:
        invite, code = await invite_mail.create(
            tx,
            mailing(services),
            created_by=admin.user_id,
            expires_in_days=body.expires_in_days if body else None,
            email=body.email if body else None,
            peer=peer,
        )
    return InstanceInviteCreated(id=invite.id, code=code, expires_at=invite.expires_at)


@router.get("", summary="List instance invites")
async def list_invites(_admin: Admin, services: ServicesDep) -> Page[InviteOut]:
    async with services.db.transaction() as tx:
        found = await tx.invites.all()
    return Page(
        items=[
            InviteOut(
                id=i.id,
                created_by=i.created_by,
                created_at=i.created_at,
                expires_at=i.expires_at,
                used_at=i.used_at,
                used_by=i.used_by,
                email=i.email,
                status=i.status,
            )
            for i in found
        ]
    )


@router.delete(
    "/{invite_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke an instance invite",
    responses=failures(404),
)
async def revoke_invite(
    invite_id: Annotated[str, Field(max_length=64)],
    admin: Admin,
    services: ServicesDep,
    peer: PeerDep,
) -> Response:
    async with services.db.transaction() as tx:
        await invites.revoke(tx, invite_id, actor_id=admin.subject, peer=peer)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
