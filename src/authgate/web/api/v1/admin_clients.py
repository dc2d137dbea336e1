"""OAuth clients, for administrators: ``/api/v1/admin/clients``."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Response, status
from pydantic import Field

from authgate.domain import clients
from authgate.web.deps import Admin, PeerDep, ServicesDep
from authgate.web.schemas import Page, RequestBody, ResponseBody, failures

router = APIRouter(prefix="/admin/clients", tags=["admin"])

Uri = Annotated[str, Field(min_length=1, max_length=clients.URI_MAX)]


class ClientIn(RequestBody):
    name: Annotated[str, Field(min_length=1, max_length=clients.NAME_MAX)]
    redirect_uris: Annotated[list[Uri], Field(max_length=clients.MAX_REDIRECT_URIS)] = (
        Field(default_factory=list)
    )
    public: bool = False
    #: Default: authorization_code + refresh_token with redirect URIs, else
    #: client_credentials (confidential) or the device grant (public).
    grant_types: (
        Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=4)]
        | None
    ) = None
    scope: Annotated[str | None, Field(max_length=1024)] = None
    #: OpenID Connect RP-Initiated Logout 1.0: where the browser may go after
    #: signing out, matched exactly.
    post_logout_redirect_uris: Annotated[
        list[Uri], Field(max_length=clients.MAX_REDIRECT_URIS)
    ] = Field(default_factory=list)


class ClientOut(ResponseBody):
    client_id: str
    name: str
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    grant_types: list[str]
    public: bool
    token_endpoint_auth_method: str
    scope: str | None
    registration: str
    created_by: str | None
    created_at: datetime


class ClientCreated(ClientOut):
    client_secret: str | None = None


def client_out(client: clients.Client) -> ClientOut:
    return ClientOut(
        client_id=client.id,
        name=client.name,
        redirect_uris=list(client.redirect_uris),
        post_logout_redirect_uris=list(client.post_logout_redirect_uris),
        grant_types=list(client.grant_types),
        public=client.public,
        token_endpoint_auth_method=client.auth_method,
        scope=client.scope,
        registration=client.registration,
        created_by=client.created_by,
        created_at=client.created_at,
    )


@router.get("", summary="List OAuth clients")
async def list_clients(_admin: Admin, services: ServicesDep) -> Page[ClientOut]:
    async with services.db.transaction() as tx:
        found = await clients.listed(tx)
    return Page(items=[client_out(c) for c in found])


@router.post(
    "", status_code=status.HTTP_201_CREATED, summary="Register an OAuth client (admin)"
)
async def create_client(
    body: ClientIn, admin: Admin, services: ServicesDep, peer: PeerDep
) -> ClientCreated:
    """Register a client; a confidential client's secret is shown only now."""
    async with services.db.transaction() as tx:
        registered, secret = await clients.create(
            tx,
            prefix=services.settings.token_prefix,
            name=body.name,
            redirect_uris=body.redirect_uris,
            grant_types=body.grant_types,
            public=body.public,
            scope=body.scope,
            created_by=admin.user_id,
            post_logout_redirect_uris=body.post_logout_redirect_uris,
            peer=peer,
        )
    return ClientCreated(**client_out(registered).model_dump(), client_secret=secret)


@router.delete(
    "/{client_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an OAuth client",
    responses=failures(404, 409),
)
async def delete_client(
    client_id: Annotated[str, Field(max_length=clients.CLIENT_ID_MAX)],
    admin: Admin,
    services: ServicesDep,
    peer: PeerDep,
) -> Response:
    """Delete a client: its refresh tokens and consents are revoked, and its
    access tokens refused from now on."""
    async with services.db.transaction() as tx:
        await clients.delete(
            tx,
            client_id,
            access_ttl=services.settings.jwt_expiry,
            actor_id=admin.user_id,
            peer=peer,
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
