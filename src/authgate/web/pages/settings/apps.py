"""``/settings/apps``: the OAuth clients the person consented to (the CLI, MCP
clients, other apps), what each may do, when it was last used, and taking
that access back: the consent is forgotten and every token the client holds
for the person is revoked at once (``domain.grants.withdraw_consent``)."""

from typing import Annotated

from fastapi import APIRouter, Form, Response
from fastapi.responses import RedirectResponse

from authgate.domain import clients, grants
from authgate.errors import NotFound
from authgate.web import paths
from authgate.web.deps import PeerDep, ServicesDep
from authgate.web.pages.viewer import FormViewer, PageRoute, PageViewer, viewer_page
from authgate.web.render import error_page

router = APIRouter(tags=["pages"], include_in_schema=False, route_class=PageRoute)


@router.get(paths.SETTINGS_APPS, response_model=None)
async def apps_page(viewer: PageViewer, services: ServicesDep) -> Response:
    async with services.db.read() as tx:
        found = await grants.authorized_apps(tx, viewer.user.id)
    return viewer_page(viewer, "settings/apps.html", section="apps", apps=found)


@router.post(f"{paths.SETTINGS_APPS}/revoke", response_model=None)
async def revoke_app(
    viewer: FormViewer,
    services: ServicesDep,
    peer: PeerDep,
    client_id: Annotated[str, Form(max_length=clients.URI_MAX)] = "",
) -> Response:
    try:
        async with services.db.transaction() as tx:
            await grants.withdraw_consent(
                tx,
                user_id=viewer.user.id,
                client_id=client_id,
                access_ttl=services.settings.jwt_expiry,
                peer=peer,
            )
    except NotFound as exc:
        return error_page(exc.description, status=404)
    return RedirectResponse(paths.SETTINGS_APPS, status_code=303)
