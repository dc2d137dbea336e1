"""The OAuth clients the caller consented to: ``/api/v1/authorized-apps``.

Withdrawing one forgets the consent and revokes every token the client holds
for the caller, as Settings → Authorized apps does."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from authgate.domain import clients, grants
from authgate.web.deps import Caller, ManagesAccount, PeerDep, ServicesDep
from authgate.web.schemas import Page, ResponseBody, failures

router = APIRouter(prefix="/authorized-apps", tags=["authorized apps"])

#: A client id may be a client metadata document's URL, slashes and all.
ClientId = Annotated[str, Path(max_length=clients.URI_MAX)]


class AppOut(ResponseBody):
    client_id: str
    name: str
    scopes: list[str]
    granted_at: datetime
    last_used_at: datetime | None


@router.get("", summary="List the applications you authorized")
async def list_apps(caller: Caller, services: ServicesDep) -> Page[AppOut]:
    async with services.db.read() as tx:
        found = await grants.authorized_apps(tx, caller.user_id or "")
    return Page(
        items=[
            AppOut(
                client_id=a.client_id,
                name=a.name,
                scopes=a.scope.split(),
                granted_at=a.granted_at,
                last_used_at=a.last_used_at,
            )
            for a in found
        ]
    )


@router.delete(
    "/{client_id:path}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Withdraw an application's authorization",
    responses=failures(404),
)
async def withdraw(
    client_id: ClientId, caller: ManagesAccount, services: ServicesDep, peer: PeerDep
) -> Response:
    """The person's own act: an application's token withdraws no consent
    (``authority.Power.ACCOUNT``)."""
    async with services.db.transaction() as tx:
        await grants.withdraw_consent(
            tx,
            user_id=caller.user_id or "",
            client_id=client_id,
            access_ttl=services.settings.jwt_expiry,
            peer=peer,
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
