"""The back office (``/bo``): instance operators' endpoints, opened only by
``AUTHGATE_BACKOFFICE_API_KEY`` and mounted only when it is set.

The key is separate from every user credential: a user token never opens
``/bo``, and the key is not a token the guard accepts on ``/api/v1``.
"""

import secrets
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from authgate.domain import users
from authgate.errors import Unauthenticated
from authgate.web.deps import PeerDep, ServicesDep
from authgate.web.schemas import Page, ResponseBody, failures


def require_backoffice_key(request: Request, services: ServicesDep) -> None:
    key = services.settings.backoffice_api_key
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    expected = key.get_secret_value() if key else ""
    # compare_digest on equal-length bytes would leak nothing; on any input it
    # leaks at most the length, which is not secret.
    if (
        not key
        or scheme.lower() != "bearer"
        or not secrets.compare_digest(presented.strip().encode(), expected.encode())
    ):
        raise Unauthenticated("Send the back-office key as a bearer token.")


router = APIRouter(
    prefix="/bo", tags=["back office"], dependencies=[Depends(require_backoffice_key)]
)
UserId = Annotated[str, Path(max_length=64)]


class BoUser(ResponseBody):
    id: str
    username: str
    email: str | None
    is_admin: bool
    disabled: bool
    created_at: datetime
    sessions: int
    access_tokens: int
    api_keys: int


class Done(ResponseBody):
    id: str
    status: str


@router.get("/users", summary="List accounts (back office)")
async def list_users(
    services: ServicesDep,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Page[BoUser]:
    async with services.db.transaction() as tx:
        found = await tx.backoffice.users(limit, cursor)
    items = [
        BoUser(
            id=s.user.id,
            username=s.user.username,
            email=s.user.email,
            is_admin=s.user.is_admin,
            disabled=not s.user.active,
            created_at=s.user.created_at,
            sessions=s.sessions,
            access_tokens=s.access_tokens,
            api_keys=s.api_keys,
        )
        for s in found
    ]
    return Page(items=items, next_cursor=items[-1].id if len(items) == limit else None)


class BoOrg(ResponseBody):
    id: str
    slug: str
    name: str
    created_at: datetime
    members: int
    api_keys: int


@router.get("/orgs", summary="List organizations (back office)")
async def list_orgs(
    services: ServicesDep,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Page[BoOrg]:
    async with services.db.transaction() as tx:
        found = await tx.backoffice.orgs(limit, cursor)
    items = [
        BoOrg(
            id=s.org.id,
            slug=s.org.slug,
            name=s.org.name,
            created_at=s.org.created_at,
            members=s.members,
            api_keys=s.api_keys,
        )
        for s in found
    ]
    return Page(items=items, next_cursor=items[-1].id if len(items) == limit else None)


@router.get("/stats", summary="Count accounts, organizations and credentials")
async def stats(services: ServicesDep) -> dict[str, int]:
    async with services.db.transaction() as tx:
        return await tx.backoffice.stats()


@router.post(
    "/users/{user_id}/disable",
    summary="Disable an account (back office)",
    responses=failures(404),
)
async def disable_user(user_id: UserId, services: ServicesDep, peer: PeerDep) -> Done:
    async with services.db.transaction() as tx:
        await users.set_active(
            tx,
            user_id,
            False,
            actor_id=None,
            access_ttl=services.settings.jwt_expiry,
            peer=peer,
        )
    return Done(id=user_id, status="disabled")


@router.post(
    "/users/{user_id}/enable",
    summary="Enable an account (back office)",
    responses=failures(404),
)
async def enable_user(user_id: UserId, services: ServicesDep, peer: PeerDep) -> Done:
    async with services.db.transaction() as tx:
        await users.set_active(
            tx,
            user_id,
            True,
            actor_id=None,
            access_ttl=services.settings.jwt_expiry,
            peer=peer,
        )
    return Done(id=user_id, status="enabled")


@router.post(
    "/users/{user_id}/revoke-credentials",
    summary="Revoke an account's credentials (back office)",
    responses=failures(404),
)
async def revoke_credentials(
    user_id: UserId, services: ServicesDep, peer: PeerDep
) -> dict[str, int]:
    async with services.db.transaction() as tx:
        return await users.revoke_everything(
            tx,
            user_id,
            actor_id=None,
            access_ttl=services.settings.jwt_expiry,
            peer=peer,
        )
