"""``GET /api/v1/me``: who the caller is and how they authenticated."""

import dataclasses
from typing import Annotated

from fastapi import APIRouter
from pydantic import Field

from authgate.domain import orgs
from authgate.errors import Forbidden
from authgate.web.deps import Caller, ServicesDep
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


@router.patch("/me", summary="Choose the default organization", responses=failures(404))
async def update_me(body: MePatch, caller: Caller, services: ServicesDep) -> MeOut:
    """Choose the default organization (id or slug; ``null`` for none)."""
    async with services.db.transaction() as tx:
        org_id = await orgs.set_default(tx, caller.user_id or "", body.default_org)
    return await me(dataclasses.replace(caller, org_id=org_id, role=None), services)


@router.get("/me", summary="Describe the caller")
async def me(caller: Caller, services: ServicesDep) -> MeOut:
    user = await services.user(caller.user_id) if caller.user_id else None
    if user is None:
        raise Forbidden("This credential does not belong to a user.")
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
