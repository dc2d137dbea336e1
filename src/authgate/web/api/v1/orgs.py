"""Organizations, members and org invites: ``/api/v1/orgs``, ``/api/v1/org-invites``."""

import dataclasses
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response, status
from pydantic import Field

from authgate.domain import orgs
from authgate.domain.permissions import Action, require
from authgate.errors import Forbidden
from authgate.guard import Principal
from authgate.server import org_context
from authgate.server.mailing import mailing
from authgate.server.services import Services
from authgate.web import paths
from authgate.web.api.v1.admin_audit import AuditFilters
from authgate.web.audit_log import AuditOut, audit_page
from authgate.web.deps import Caller, ManagesAccount, PeerDep, ServicesDep
from authgate.web.schemas import Page, RequestBody, ResponseBody, failures

router = APIRouter(tags=["organizations"])

#: The page an org invite's link opens (``web/pages/orgs.py``).
OrgRef = Annotated[str, Path(max_length=64, description="Organization id or slug.")]
UserRef = Annotated[str, Path(max_length=64)]


class OrgIn(RequestBody):
    name: Annotated[str, Field(min_length=1, max_length=orgs.NAME_MAX)]
    slug: Annotated[str | None, Field(max_length=48)] = None


class OrgPatch(RequestBody):
    name: Annotated[str | None, Field(min_length=1, max_length=orgs.NAME_MAX)] = None
    slug: Annotated[str | None, Field(max_length=48)] = None
    #: members act in the org only with a second factor (owners only)
    require_mfa: bool | None = None


class OrgOut(ResponseBody):
    id: str
    slug: str
    name: str
    role: str
    require_mfa: bool
    created_at: datetime


class MemberOut(ResponseBody):
    user_id: str
    username: str
    email: str | None
    role: str


class RoleIn(RequestBody):
    role: Annotated[str, Field(max_length=16)]


class OrgInviteIn(RequestBody):
    email: Annotated[str, Field(min_length=3, max_length=320)]
    role: Annotated[str, Field(max_length=16)] = "member"


class OrgInviteCreated(ResponseBody):
    id: str
    code: str
    url: str
    expires_at: datetime | None


class OrgInviteOut(ResponseBody):
    id: str
    email: str | None
    role: str | None
    created_at: datetime
    expires_at: datetime | None
    status: str


class AcceptIn(RequestBody):
    code: Annotated[str, Field(min_length=1, max_length=256)]


def org_out(membership: orgs.Membership) -> OrgOut:
    org = membership.org
    return OrgOut(
        id=org.id,
        slug=org.slug,
        name=org.name,
        role=membership.role,
        require_mfa=org.require_mfa,
        created_at=org.created_at,
    )


def _user(caller: Any) -> str:
    return str(caller.user_id or "")


async def _membership(
    services: Services, ref: str, caller: Principal
) -> orgs.Membership:
    async with services.db.transaction() as tx:
        return await org_context.access(tx, ref, caller)


@router.get("/orgs", summary="List your organizations")
async def list_orgs(caller: Caller, services: ServicesDep) -> Page[OrgOut]:
    async with services.db.transaction() as tx:
        found = await tx.orgs.memberships(_user(caller))
    return Page(items=[org_out(m) for m in found])


@router.post(
    "/orgs",
    status_code=status.HTTP_201_CREATED,
    summary="Create an organization",
    responses=failures(409),
)
async def create_org(
    body: OrgIn, caller: Caller, services: ServicesDep, peer: PeerDep
) -> OrgOut:
    async with services.db.transaction() as tx:
        membership = await orgs.create(
            tx, user_id=_user(caller), name=body.name, slug=body.slug, peer=peer
        )
    return org_out(membership)


@router.get("/orgs/{org}", summary="Show an organization", responses=failures(404))
async def get_org(org: OrgRef, caller: Caller, services: ServicesDep) -> OrgOut:
    return org_out(await _membership(services, org, caller))


@router.patch(
    "/orgs/{org}", summary="Change an organization", responses=failures(404, 409)
)
async def update_org(
    org: OrgRef, body: OrgPatch, caller: Caller, services: ServicesDep, peer: PeerDep
) -> OrgOut:
    async with services.db.transaction() as tx:
        membership = await org_context.access(tx, org, caller)
        updated = await orgs.update(
            tx,
            membership,
            name=body.name,
            slug=body.slug,
            require_mfa=body.require_mfa,
            peer=peer,
        )
    return org_out(dataclasses.replace(membership, org=updated))


@router.delete(
    "/orgs/{org}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an organization",
    responses=failures(404),
)
async def delete_org(
    org: OrgRef, caller: ManagesAccount, services: ServicesDep, peer: PeerDep
) -> Response:
    async with services.db.transaction() as tx:
        await orgs.delete(tx, await org_context.access(tx, org, caller), peer)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/orgs/{org}/members",
    summary="List an organization's members",
    responses=failures(404),
)
async def list_members(
    org: OrgRef, caller: Caller, services: ServicesDep
) -> Page[MemberOut]:
    async with services.db.transaction() as tx:
        found = await orgs.members(tx, await org_context.access(tx, org, caller))
    return Page(
        items=[
            MemberOut(
                user_id=m.user_id, username=m.username, email=m.email, role=m.role
            )
            for m in found
        ]
    )


@router.patch(
    "/orgs/{org}/members/{user_id}",
    summary="Change a member's role",
    responses=failures(404, 409),
)
async def change_role(
    org: OrgRef,
    user_id: UserRef,
    body: RoleIn,
    caller: ManagesAccount,
    services: ServicesDep,
    peer: PeerDep,
) -> MemberOut:
    async with services.db.transaction() as tx:
        membership = await org_context.access(tx, org, caller)
        member = await orgs.change_role(tx, membership, user_id, body.role, peer)
    return MemberOut(
        user_id=member.user_id,
        username=member.username,
        email=member.email,
        role=member.role,
    )


@router.delete(
    "/orgs/{org}/members/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a member",
    responses=failures(404, 409),
)
async def remove_member(
    org: OrgRef,
    user_id: UserRef,
    caller: ManagesAccount,
    services: ServicesDep,
    peer: PeerDep,
) -> Response:
    async with services.db.transaction() as tx:
        membership = await org_context.access(tx, org, caller)
        await orgs.remove_member(tx, membership, user_id, peer)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/orgs/{org}/invites",
    status_code=status.HTTP_201_CREATED,
    summary="Invite someone to an organization",
    responses=failures(404, 409),
)
async def invite_member(
    org: OrgRef,
    body: OrgInviteIn,
    caller: ManagesAccount,
    services: ServicesDep,
    peer: PeerDep,
) -> OrgInviteCreated:
    async with services.db.transaction() as tx:
        membership = await org_context.access(tx, org, caller)
        invite, code = await orgs.invite(
            tx,
            membership,
            email=body.email,
            role=body.role,
            mailing=mailing(services),
            accounts=services.settings.org_invites_create_accounts,
            peer=peer,
        )
    return OrgInviteCreated(
        id=invite.id,
        code=code,
        url=paths.invite_url(services.settings, code),
        expires_at=invite.expires_at,
    )


@router.get(
    "/orgs/{org}/invites",
    summary="List an organization's pending invites",
    responses=failures(404),
)
async def list_org_invites(
    org: OrgRef, caller: Caller, services: ServicesDep
) -> Page[OrgInviteOut]:
    async with services.db.transaction() as tx:
        found = await orgs.invites_of(tx, await org_context.access(tx, org, caller))
    return Page(
        items=[
            OrgInviteOut(
                id=i.id,
                email=i.email,
                role=i.role,
                created_at=i.created_at,
                expires_at=i.expires_at,
                status=i.status,
            )
            for i in found
        ]
    )


@router.delete(
    "/orgs/{org}/invites/{invite_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke an organization invite",
    responses=failures(404),
)
async def revoke_org_invite(
    org: OrgRef,
    invite_id: UserRef,
    caller: ManagesAccount,
    services: ServicesDep,
    peer: PeerDep,
) -> Response:
    async with services.db.transaction() as tx:
        await orgs.revoke_invite(
            tx, await org_context.access(tx, org, caller), invite_id, peer
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/org-invites/accept",
    summary="Accept an organization invite",
    responses=failures(404, 409),
)
async def accept_invite(
    body: AcceptIn, caller: ManagesAccount, services: ServicesDep, peer: PeerDep
) -> OrgOut:
    user = await services.user(_user(caller))
    if user is None:
        raise Forbidden("This invite was sent to another email address.")
    async with services.db.transaction() as tx:
        membership = await orgs.accept(tx, body.code, user=user, peer=peer)
    return org_out(membership)


@router.get(
    "/orgs/{org}/audit",
    summary="Read an organization's audit log",
    responses=failures(404),
)
async def org_audit(
    org: OrgRef, caller: Caller, services: ServicesDep, query: AuditFilters
) -> Page[AuditOut]:
    async with services.db.transaction() as tx:
        membership = await org_context.access(tx, org, caller)
        require(membership.role, Action.READ_AUDIT)
    return await audit_page(
        services, dataclasses.replace(query, org_id=membership.org.id)
    )
