"""``GET /api/v1/me``: who the caller is and how they authenticated."""

from fastapi import APIRouter

from authgate.errors import Forbidden
from authgate.web.deps import Caller, ServicesDep
from authgate.web.schemas import ApiModel

router = APIRouter(tags=["me"])


class AuthInfo(ApiModel):
    kind: str
    id: str | None


class MeOut(ApiModel):
    id: str
    username: str
    email: str | None
    is_admin: bool
    org_id: str | None
    auth: AuthInfo


@router.get("/me")
async def me(caller: Caller, services: ServicesDep) -> MeOut:
    user = await services.user(caller.user_id) if caller.user_id else None
    if user is None:
        raise Forbidden("This credential does not belong to a user.")
    return MeOut(
        id=user.id,
        username=user.username,
        email=user.email,
        is_admin=user.is_admin,
        org_id=caller.org_id,
        auth=AuthInfo(kind=caller.kind, id=caller.credential_id),
    )
