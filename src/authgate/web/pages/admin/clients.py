"""``/admin/clients``: OAuth client registrations, through the same domain
calls as ``/api/v1/admin/clients`` and ``authgate admin create-client``.

A confidential client's secret is shown once, in the answer to the form that
registered it; only its hash is stored.
"""

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from authgate.domain import clients
from authgate.errors import AuthgateError
from authgate.server.services import Services
from authgate.web import paths
from authgate.web.deps import PeerDep, ServicesDep
from authgate.web.pages.admin.gate import (
    AdminForm,
    AdminViewer,
    admin_transaction,
    console_page,
    usernames,
)
from authgate.web.pages.viewer import PageRoute, Viewer

router = APIRouter(tags=["pages"], include_in_schema=False, route_class=PageRoute)

#: The grant types the form offers, in words.
GRANTS = (
    (clients.AUTHORIZATION_CODE, "Authorization code (sign-in through a browser)"),
    (clients.REFRESH_TOKEN, "Refresh token"),
    (clients.CLIENT_CREDENTIALS, "Client credentials (a service, no user)"),
    (clients.DEVICE_CODE, "Device code (a device without a browser)"),
)
GRANT_TEXT = dict(GRANTS)
#: How a client came to exist, in the list's words ("admin" needs none).
REGISTRATION_TEXT = {
    "builtin": "built in",
    "dynamic": "dynamic registration",
    "metadata_document": "metadata document",
}
DONE = {"deleted": "The client was deleted; its tokens no longer work."}


@dataclass(frozen=True, slots=True)
class ClientForm:
    """The registration form's values, kept when it is shown again with an
    error."""

    name: str = ""
    redirect_uris: str = ""
    kind: str = "confidential"
    grant_types: tuple[str, ...] = ()
    scope: str = ""


async def _page(
    services: Services,
    viewer: Viewer,
    *,
    created: tuple[clients.Client, str | None] | None = None,
    form: ClientForm | None = None,
    done: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    async with services.db.read() as tx:
        found = await clients.listed(tx)
        names = await usernames(tx, [c.created_by for c in found])
    return console_page(
        viewer,
        "admin/clients.html",
        section="clients",
        status=status,
        clients=found,
        names=names,
        grants=GRANTS,
        grant_text=GRANT_TEXT,
        registration_text=REGISTRATION_TEXT,
        created=created,
        # The Copy button (/static/copy.js) next to a secret shown once.
        scripts=created is not None,
        form=form or ClientForm(),
        done=done,
        error=error,
    )


@router.get(paths.ADMIN_CLIENTS, response_model=None)
async def list_clients(
    request: Request, viewer: AdminViewer, services: ServicesDep
) -> Response:
    done = DONE.get(request.query_params.get("done", ""))
    return await _page(services, viewer, done=done)


@router.post(paths.ADMIN_CLIENTS, response_model=None)
async def create_client(
    viewer: AdminForm,
    services: ServicesDep,
    peer: PeerDep,
    name: Annotated[str, Form(max_length=clients.NAME_MAX * 4)] = "",
    redirect_uris: Annotated[str, Form(max_length=clients.URI_MAX * 21)] = "",
    kind: Annotated[str, Form(max_length=16)] = "confidential",
    grant_types: Annotated[list[str], Form(max_length=8)] = [],  # noqa: B006
    scope: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    try:
        async with admin_transaction(services, viewer) as tx:
            created = await clients.create(
                tx,
                prefix=services.settings.token_prefix,
                name=name,
                redirect_uris=redirect_uris.split(),
                # None: the same defaults as the API and the CLI.
                grant_types=grant_types or None,
                public=kind == "public",
                scope=scope,
                created_by=viewer.user.id,
                peer=peer,
            )
    except AuthgateError as exc:
        form = ClientForm(
            name=name,
            redirect_uris=redirect_uris,
            kind="public" if kind == "public" else "confidential",
            grant_types=tuple(grant_types),
            scope=scope,
        )
        return await _page(
            services, viewer, form=form, error=exc.description, status=exc.status
        )
    return await _page(services, viewer, created=created)


@router.post(f"{paths.ADMIN_CLIENTS}/delete", response_model=None)
async def delete_client(
    viewer: AdminForm,
    services: ServicesDep,
    peer: PeerDep,
    client_id: Annotated[str, Form(max_length=clients.CLIENT_ID_MAX)] = "",
) -> Response:
    """The id travels in the form: a client registered by its metadata
    document is known by a URL, which no path segment can hold."""
    try:
        async with admin_transaction(services, viewer) as tx:
            await clients.delete(
                tx,
                client_id,
                access_ttl=services.settings.jwt_expiry,
                actor_id=viewer.user.id,
                peer=peer,
            )
    except AuthgateError as exc:
        return await _page(services, viewer, error=exc.description, status=exc.status)
    return RedirectResponse(f"{paths.ADMIN_CLIENTS}?done=deleted", status_code=303)
