"""``/settings/passkeys``: the person's passkeys, to add, rename and remove.

Renaming and removing are plain forms. Adding one needs the browser's
WebAuthn ceremony: the page carries the options and their ticket in the add
form, ``/static/passkeys.js`` runs the ceremony and posts the answer with the
form (so this page, and the sign-in page, allow this site's own scripts).
The rules are the API's (``domain.passkeys``, ``server.passkeys``).
"""

import json
from typing import Annotated

from fastapi import APIRouter, Form, Path, Response
from fastapi.responses import RedirectResponse

from authgate.domain import passkeys
from authgate.errors import AuthgateError
from authgate.server import passkeys as webauthn
from authgate.server.services import Services
from authgate.util.useragent import device_label
from authgate.web import paths
from authgate.web.deps import PeerDep, ServicesDep
from authgate.web.pages.settings.security import recovery_codes_page
from authgate.web.pages.viewer import (
    FormViewer,
    PageRoute,
    PageViewer,
    SteppedUpForm,
    Viewer,
    viewer_page,
)

router = APIRouter(tags=["pages"], include_in_schema=False, route_class=PageRoute)

PasskeyId = Annotated[str, Path(max_length=64)]
Name = Annotated[str, Form(max_length=passkeys.NAME_MAX * 4)]


async def _page(
    viewer: Viewer,
    services: Services,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    async with services.db.read() as tx:
        found = await passkeys.listed(tx, viewer.user.id)
    ceremony = None
    if webauthn.relying_party(services) is not None:
        ceremony = await webauthn.begin_registration(
            services, user_id=viewer.user.id, username=viewer.user.username
        )
    return viewer_page(
        viewer,
        "settings/passkeys.html",
        status=status,
        scripts=ceremony is not None,
        section="security",
        passkeys=found,
        options=json.dumps(ceremony.options) if ceremony else None,
        ticket=ceremony.ticket if ceremony else None,
        unavailable=None if ceremony else webauthn.UNAVAILABLE,
        error=error,
    )


@router.get(paths.SETTINGS_PASSKEYS, response_model=None)
async def passkeys_page(viewer: PageViewer, services: ServicesDep) -> Response:
    return await _page(viewer, services)


@router.post(paths.SETTINGS_PASSKEYS, response_model=None)
async def add_passkey(
    viewer: SteppedUpForm,
    services: ServicesDep,
    peer: PeerDep,
    name: Name = "",
    ticket: Annotated[str, Form(max_length=2048)] = "",
    credential: Annotated[str, Form(max_length=65536)] = "",
) -> Response:
    if not credential:
        return await _page(
            viewer,
            services,
            error="Adding a passkey needs JavaScript, and a browser that supports "
            "passkeys.",
            status=400,
        )
    try:
        added = await webauthn.add(
            services,
            user_id=viewer.user.id,
            ticket=ticket,
            credential=passkeys.parse_credential(credential),
            name=name or device_label(peer.user_agent),
            peer=peer,
        )
    except AuthgateError as exc:
        return await _page(viewer, services, error=exc.description, status=exc.status)
    if added.recovery_codes is not None:
        return recovery_codes_page(
            viewer,
            added.recovery_codes,
            "Passkey added",
            back=paths.SETTINGS_PASSKEYS,
            back_label="Back to passkeys",
        )
    return RedirectResponse(paths.SETTINGS_PASSKEYS, status_code=303)


@router.post(f"{paths.SETTINGS_PASSKEYS}/{{passkey_id}}/rename", response_model=None)
async def rename_passkey(
    viewer: FormViewer,
    services: ServicesDep,
    peer: PeerDep,
    passkey_id: PasskeyId,
    name: Name = "",
) -> Response:
    try:
        async with services.db.transaction() as tx:
            await passkeys.rename(tx, viewer.user.id, passkey_id, name, peer=peer)
    except AuthgateError as exc:
        return await _page(viewer, services, error=exc.description, status=exc.status)
    return RedirectResponse(paths.SETTINGS_PASSKEYS, status_code=303)


@router.post(f"{paths.SETTINGS_PASSKEYS}/{{passkey_id}}/remove", response_model=None)
async def remove_passkey(
    viewer: SteppedUpForm, services: ServicesDep, peer: PeerDep, passkey_id: PasskeyId
) -> Response:
    try:
        await webauthn.remove(
            services, user_id=viewer.user.id, passkey_id=passkey_id, peer=peer
        )
    except AuthgateError as exc:
        return await _page(viewer, services, error=exc.description, status=exc.status)
    return RedirectResponse(paths.SETTINGS_PASSKEYS, status_code=303)
