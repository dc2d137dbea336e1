"""``/admin/invites``: instance invite codes, through the same domain calls as
``/api/v1/admin/invites`` and ``authgate admin invite create``.

A new code is shown once, in the answer to the form that made it (never in a
URL, never again: only its hash is stored), with the Copy button of
``/static/copy.js``; without JavaScript the code is selected by hand.
"""

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request, Response
from fastapi.responses import RedirectResponse

from authgate.domain import invite_mail, invites
from authgate.errors import AuthgateError, InvalidRequest
from authgate.server.mailing import mailing
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

DONE = {"revoked": "The invite was revoked; its code no longer works."}
STATUS_TEXT = {
    "unused": "Unused",
    "used": "Used",
    "expired": "Expired",
    "revoked": "Revoked",
}


async def _page(
    services: Services,
    viewer: Viewer,
    *,
    created: tuple[invites.Invite, str] | None = None,
    days: str = "",
    email: str = "",
    done: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    async with services.db.read() as tx:
        found = await tx.invites.all()
        names = await usernames(
            tx, [i.created_by for i in found] + [i.used_by for i in found]
        )
    return console_page(
        viewer,
        "admin/invites.html",
        section="invites",
        status=status,
        invites=found,
        names=names,
        status_text=STATUS_TEXT,
        created=created,
        # The Copy button (/static/copy.js) next to a secret shown once.
        scripts=created is not None,
        days=days,
        email=email,
        max_days=invites.MAX_DAYS,
        done=done,
        error=error,
    )


@router.get(paths.ADMIN_INVITES, response_model=None)
async def list_invites(
    request: Request, viewer: AdminViewer, services: ServicesDep
) -> Response:
    done = DONE.get(request.query_params.get("done", ""))
    return await _page(services, viewer, done=done)


def _days(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 4:
        raise InvalidRequest(
            f"Expires in must be a whole number of days, 1 to {invites.MAX_DAYS}."
        )
    return int(text)


@router.post(paths.ADMIN_INVITES, response_model=None)
async def create_invite(
    viewer: AdminForm,
    services: ServicesDep,
    peer: PeerDep,
    expires_in_days: Annotated[str, Form(max_length=16)] = "",
    email: Annotated[str, Form(max_length=320)] = "",
) -> Response:
    try:
        async with admin_transaction(services, viewer) as tx:
            created = await invite_mail.create(
                tx,
                mailing(services),
                created_by=viewer.user.id,
                expires_in_days=_days(expires_in_days),
                email=email,
                peer=peer,
            )
    except AuthgateError as exc:
        return await _page(
            services,
            viewer,
            days=expires_in_days,
            email=email,
            error=exc.description,
            status=exc.status,
        )
    return await _page(services, viewer, created=created)


@router.post(f"{paths.ADMIN_INVITES}/{{invite_id}}/revoke", response_model=None)
async def revoke_invite(
    viewer: AdminForm,
    services: ServicesDep,
    peer: PeerDep,
    invite_id: Annotated[str, Path(max_length=64)],
) -> Response:
    try:
        async with admin_transaction(services, viewer) as tx:
            await invites.revoke(tx, invite_id, actor_id=viewer.user.id, peer=peer)
    except AuthgateError as exc:
        return await _page(services, viewer, error=exc.description, status=exc.status)
    return RedirectResponse(f"{paths.ADMIN_INVITES}?done=revoked", status_code=303)
