"""API keys: ``/api/v1/api-keys``."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import Field

from authgate.domain import api_keys, credentials
from authgate.guard import Principal
from authgate.server.org_context import HEADER, keep_in, key_org
from authgate.util import clock
from authgate.web.api.v1.personal_tokens import CredentialId
from authgate.web.deps import (
    BoundOrg,
    Caller,
    Minting,
    PeerDep,
    ServicesDep,
    revoking,
)
from authgate.web.schemas import Page, RequestBody, ResponseBody, failures

router = APIRouter(prefix="/api-keys", tags=["api keys"])


class KeyIn(RequestBody):
    name: Annotated[str, Field(min_length=1, max_length=credentials.NAME_MAX)]
    permission: api_keys.Permission = "read"
    expires_in_days: int | None = None
    org: Annotated[str | None, Field(max_length=64)] = None


class KeyOut(ResponseBody):
    id: str
    name: str
    display_prefix: str
    permission: api_keys.Permission
    org_id: str | None
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    status: str


class KeyCreated(KeyOut):
    token: str


def key_out(key: credentials.Credential) -> KeyOut:
    return KeyOut(
        id=key.id,
        name=key.name,
        display_prefix=key.display_prefix,
        permission=api_keys.permission_of(key.scopes),
        org_id=key.org_id,
        created_at=key.created_at,
        last_used_at=key.last_used_at,
        expires_at=key.expires_at,
        status=key.status(clock.now()),
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create an API key",
    responses=failures(404),
)
async def create_key(
    body: KeyIn,
    minter: Minting,
    services: ServicesDep,
    peer: PeerDep,
    request: Request,
    bound: BoundOrg,
) -> KeyCreated:
    """The secret is in this response only; it is never shown again."""
    ref = body.org or request.headers.get(HEADER) or bound
    async with services.db.transaction() as tx:
        key, secret = await api_keys.create(
            tx,
            prefix=services.settings.token_prefix,
            user_id=minter.user_id,
            name=body.name,
            permission=body.permission,
            expires_in_days=body.expires_in_days,
            org_id=keep_in(bound, await key_org(tx, ref, minter.user_id)),
            peer=peer,
            parent=minter.parent,
        )
    return KeyCreated(**key_out(key).model_dump(), token=secret)


@router.get("", summary="List API keys")
async def list_keys(caller: Caller, services: ServicesDep) -> Page[KeyOut]:
    async with services.db.transaction() as tx:
        found = await tx.credentials.list_for_user(caller.user_id or "", "key")
    return Page(items=[key_out(k) for k in found])


@router.delete(
    "/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke an API key",
    responses=failures(404),
)
async def revoke_key(
    key_id: CredentialId,
    caller: Annotated[Principal, Depends(revoking("key_id"))],
    services: ServicesDep,
    peer: PeerDep,
) -> Response:
    async with services.db.transaction() as tx:
        await credentials.revoke(
            tx, key_id, kind="key", user_id=caller.user_id or "", peer=peer
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
