"""``/api/v1/me``: who the caller is and how they authenticated; the
person's data to take away (``/me/export``), and deleting their account."""

import dataclasses
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Response, status
from pydantic import Field

from authgate.domain import export, orgs
from authgate.domain.users import User
from authgate.errors import Forbidden
from authgate.guard import Principal
from authgate.server.self_deletion import delete_own
from authgate.server.services import Services
from authgate.util import clock
from authgate.web.api.v1.personal_tokens import AccessTokenOut, token_out
from authgate.web.audit_log import AuditOut, audit_out
from authgate.web.deps import (
    Caller,
    ChangesSignIn,
    ManagesAccount,
    PeerDep,
    ServicesDep,
    rate_limit,
)
from authgate.web.schemas import RequestBody, ResponseBody, failures

router = APIRouter(tags=["me"])


class AuthInfo(ResponseBody):
    kind: str
    id: str | None


class MeOut(ResponseBody):
    id: str
    username: str
    email: str | None
    #: ``email`` was proved theirs by a mailed link
    email_verified: bool
    #: an address asked for, waiting for its link to be followed (``email``
    #: stays until then)
    new_email: str | None
    is_admin: bool
    org_id: str | None
    auth: AuthInfo


class MePatch(RequestBody):
    default_org: Annotated[str | None, Field(max_length=64)] = None


async def _person(services: Services, caller: Principal) -> User:
    user = await services.user(caller.user_id) if caller.user_id else None
    if user is None:
        raise Forbidden("This credential does not belong to a user.")
    return user


@router.patch("/me", summary="Choose the default organization", responses=failures(404))
async def update_me(body: MePatch, caller: Caller, services: ServicesDep) -> MeOut:
    """Choose the default organization (id or slug; ``null`` for none)."""
    async with services.db.transaction() as tx:
        org_id = await orgs.set_default(tx, caller.user_id or "", body.default_org)
    return await me(dataclasses.replace(caller, org_id=org_id, role=None), services)


@router.get("/me", summary="Describe the caller")
async def me(caller: Caller, services: ServicesDep) -> MeOut:
    user = await _person(services, caller)
    return MeOut(
        id=user.id,
        username=user.username,
        email=user.email,
        email_verified=user.email_verified,
        new_email=user.new_email,
        is_admin=user.is_admin,
        org_id=caller.org_id,
        auth=AuthInfo(kind=caller.kind, id=caller.credential_id),
    )


class DeleteMeIn(RequestBody):
    #: the current password; an account without one (signed in upstream)
    #: leaves it out, its recent sign-in being the proof
    password: Annotated[str, Field(max_length=1024)] = ""


@router.delete(
    "/me",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[rate_limit("delete-account")],
    summary="Delete your own account",
    responses=failures(409),
)
async def delete_me(
    body: DeleteMeIn, caller: ChangesSignIn, services: ServicesDep, peer: PeerDep
) -> Response:
    """Delete the caller's account and everything it holds
    (``domain.deletion``), after a recent sign-in and the current password.
    Refused (409) for the last active administrator or the only owner of an
    organization with other members."""
    user = await _person(services, caller)
    await delete_own(services, user, body.password, peer=peer)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


class ProfileOut(ResponseBody):
    id: str
    username: str
    email: str | None
    email_verified: bool
    new_email: str | None
    is_admin: bool
    has_password: bool
    created_at: datetime
    default_org_id: str | None


class ExportedSession(ResponseBody):
    id: str
    device: str
    ip: str | None
    user_agent: str | None
    created_at: datetime
    last_active_at: datetime
    expires_at: datetime


class MembershipOut(ResponseBody):
    org_id: str
    slug: str
    name: str
    role: str
    joined_at: datetime


class ExportOut(ResponseBody):
    exported_at: datetime
    profile: ProfileOut
    sessions: list[ExportedSession]
    access_tokens: list[AccessTokenOut]
    api_keys: list[AccessTokenOut]
    orgs: list[MembershipOut]
    audit: list[AuditOut]


@router.get("/me/export", summary="Export your data")
async def export_me(caller: ManagesAccount, services: ServicesDep) -> ExportOut:
    """Everything Authgate holds about the caller, as one JSON document:
    profile, live sessions, tokens' and keys' metadata, organizations, and the
    audit entries naming them."""
    user = await _person(services, caller)
    async with services.db.read() as tx:
        found = await export.gather(tx, user)
    profile = found.user
    return ExportOut(
        exported_at=clock.now(),
        profile=ProfileOut(
            id=profile.id,
            username=profile.username,
            email=profile.email,
            email_verified=profile.email_verified,
            new_email=profile.new_email,
            is_admin=profile.is_admin,
            has_password=profile.password_hash is not None,
            created_at=profile.created_at,
            default_org_id=profile.default_org_id,
        ),
        sessions=[
            ExportedSession(
                id=s.id,
                device=s.device,
                ip=s.ip,
                user_agent=s.user_agent,
                created_at=s.created_at,
                last_active_at=s.last_active_at,
                expires_at=s.expires_at,
            )
            for s in found.sessions
        ],
        access_tokens=[token_out(c) for c in found.access_tokens],
        api_keys=[token_out(c) for c in found.api_keys],
        orgs=[
            MembershipOut(
                org_id=m.org.id,
                slug=m.org.slug,
                name=m.org.name,
                role=m.role,
                joined_at=m.created_at,
            )
            for m in found.memberships
        ],
        audit=[audit_out(e) for e in found.audit],
    )
