"""``/settings/keys``: API keys for server-to-server calls.

A key is read-only or read-write, and belongs to one of the person's
organizations (where their role allows creating keys) or to them alone. Its
secret is shown once; revoking asks for confirmation on a page of its own.
The rules are the API's (``domain.api_keys``, ``server.org_context.key_org``).
"""

from typing import Annotated, get_args

from fastapi import APIRouter, Form, Response

from authgate.domain import api_keys, credentials
from authgate.domain.permissions import Action, allowed
from authgate.errors import AuthgateError
from authgate.server.org_context import key_org
from authgate.server.services import Services
from authgate.web import paths
from authgate.web.deps import PeerDep, ServicesDep
from authgate.web.pages.settings.credentials import CredentialPage, ceiling
from authgate.web.pages.viewer import (
    PageRoute,
    PageViewer,
    SteppedUpForm,
    Viewer,
    viewer_page,
)

router = APIRouter(tags=["pages"], include_in_schema=False, route_class=PageRoute)

PAGE = CredentialPage(
    kind="key",
    path=paths.SETTINGS_KEYS,
    section="keys",
    back_label="Back to API keys",
    missing="No such API key.",
    revoke_title="Revoke API key",
    consequence="Services calling the API with it are refused at once.",
)
PERMISSIONS = get_args(api_keys.Permission)


async def _list(
    viewer: Viewer,
    services: Services,
    *,
    values: dict[str, str] | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    async with services.db.read() as tx:
        found = await tx.credentials.list_for_user(viewer.user.id, "key")
        memberships = await tx.orgs.memberships(viewer.user.id)
    names = {m.org.id: m.org.name for m in memberships}
    return viewer_page(
        viewer,
        "settings/keys.html",
        status=status,
        section="keys",
        keys=[
            {
                "key": k,
                "permission": api_keys.permission_of(k.scopes),
                "org": names.get(k.org_id, "Another organization")
                if k.org_id
                else None,
            }
            for k in found
        ],
        orgs=[m.org for m in memberships if allowed(m.role, Action.CREATE_API_KEY)],
        values=values or {"name": "", "permission": "read", "org": ""},
        error=error,
    )


@router.get(paths.SETTINGS_KEYS, response_model=None)
async def keys_page(viewer: PageViewer, services: ServicesDep) -> Response:
    return await _list(viewer, services)


@router.post(paths.SETTINGS_KEYS, response_model=None)
async def create_key(
    viewer: SteppedUpForm,
    services: ServicesDep,
    peer: PeerDep,
    name: Annotated[str, Form(max_length=credentials.NAME_MAX * 2)] = "",
    permission: Annotated[str, Form(max_length=8)] = "read",
    org: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    values = {"name": name, "permission": permission, "org": org}
    if permission not in PERMISSIONS:
        return await _list(
            viewer,
            services,
            values=values,
            error="Choose read-only or read and write.",
            status=400,
        )
    try:
        async with services.db.transaction() as tx:
            key, secret = await api_keys.create(
                tx,
                prefix=services.settings.token_prefix,
                user_id=viewer.user.id,
                name=name,
                permission="write" if permission == "write" else "read",
                expires_in_days=None,
                org_id=await key_org(tx, org or None, viewer.user.id),
                peer=peer,
                parent=ceiling(services, viewer),
            )
    except AuthgateError as exc:
        return await _list(
            viewer, services, values=values, error=exc.description, status=exc.status
        )
    return PAGE.created(
        viewer,
        title="API key created",
        what=f"Your new API key “{key.name}”",
        secret=secret,
    )


PAGE.add_revoke_routes(router)
