"""Personal access tokens: ``/api/v1/access-tokens``."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status
from pydantic import Field

from authgate.domain import credentials, orgs, personal_tokens
from authgate.guard import Principal
from authgate.server.org_context import keep_in
from authgate.util import clock
from authgate.web.deps import (
    BoundOrg,
    Caller,
    Minting,
    PeerDep,
    ServicesDep,
    revoking,
)
from authgate.web.schemas import Page, RequestBody, ResponseBody, failures

router = APIRouter(prefix="/access-tokens", tags=["access tokens"])

CredentialId = Annotated[str, Path(max_length=64)]


class AccessTokenIn(RequestBody):
    name: Annotated[str, Field(min_length=1, max_length=credentials.NAME_MAX)]
    expires_in_days: int
    scopes: Annotated[list[str] | None, Field(max_length=10)] = None
    org: Annotated[str | None, Field(max_length=64)] = None


class AccessTokenOut(ResponseBody):
    id: str
    name: str
    display_prefix: str
    scopes: list[str]
    org_id: str | None
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    status: str


class AccessTokenCreated(AccessTokenOut):
    token: str


def token_out(token: credentials.Credential) -> AccessTokenOut:
    return AccessTokenOut(
        id=token.id,
        name=token.name,
        display_prefix=token.display_prefix,
        scopes=list(token.scopes),
        org_id=token.org_id,
        created_at=token.created_at,
        last_used_at=token.last_used_at,
        expires_at=token.expires_at,
        status=token.status(clock.now()),
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a personal access token",
    responses=failures(404),
)
async def create_token(
    body: AccessTokenIn,
    minter: Minting,
    services: ServicesDep,
    peer: PeerDep,
    bound: BoundOrg,
) -> AccessTokenCreated:
    """The secret is in this response only; it is never shown again."""
    ref = body.org or bound
    async with services.db.transaction() as tx:
        token, secret = await personal_tokens.create(
            tx,
            prefix=services.settings.token_prefix,
            user_id=minter.user_id,
            name=body.name,
            expires_in_days=body.expires_in_days,
            max_days=services.settings.pat_max_days,
            scopes=body.scopes,
            org_id=keep_in(
                bound,
                (await orgs.access(tx, ref, minter.user_id)).org.id if ref else None,
            ),
            peer=peer,
            parent=minter.parent,
        )
    return AccessTokenCreated(**token_out(token).model_dump(), token=secret)


@router.get("", summary="List your personal access tokens")
async def list_tokens(caller: Caller, services: ServicesDep) -> Page[AccessTokenOut]:
    async with services.db.transaction() as tx:
        found = await tx.credentials.list_for_user(caller.user_id or "", "pat")
    return Page(items=[token_out(t) for t in found])


@router.delete(
    "/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke a personal access token",
    responses=failures(404),
)
async def revoke_token(
    token_id: CredentialId,
    caller: Annotated[Principal, Depends(revoking("token_id"))],
    services: ServicesDep,
    peer: PeerDep,
) -> Response:
    async with services.db.transaction() as tx:
        await credentials.revoke(
            tx, token_id, kind="pat", user_id=caller.user_id or "", peer=peer
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
