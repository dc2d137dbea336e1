"""Who reaches the admin console, and what every console page and form share.

Only instance administrators: a signed-out visitor goes to ``/login?next=…``
and back, a signed-in person without the role gets a 403 page. A form post
must also come from this origin with the viewer's form token
(``viewer.FormViewer``), and the role is read again from the database inside
the transaction that makes the change: a role revoked a moment ago, on any
instance, never carries a change through.
"""

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import ImmutableMultiDict

from authgate.domain.stores import Stores
from authgate.server.services import Services
from authgate.web.pages.viewer import (
    PageViewer,
    Refused,
    SteppedUpForm,
    Viewer,
    viewer_page,
)
from authgate.web.render import error_page
from authgate.web.schemas import storable

NOT_ADMIN = "This page is for instance administrators."
NOT_TEXT = "The form holds characters that are not text (such as NUL)."
#: Rows per page of the users list and the audit log.
PAGE_SIZE = 25


def _admin(viewer: Viewer, values: ImmutableMultiDict[str, Any]) -> Viewer:
    """The viewer, if an administrator (else the 403 page), and if the query or
    form holds only what a database stores (else a 400 page: NUL or a lone
    surrogate would fail deep in a driver rather than be refused here)."""
    if not viewer.user.is_admin:
        raise Refused(error_page(NOT_ADMIN, status=403))
    if not all(
        storable(k) and (not isinstance(v, str) or storable(v))
        for k, v in values.multi_items()
    ):
        raise Refused(error_page(NOT_TEXT, status=400))
    return viewer


async def _admin_page(request: Request, viewer: PageViewer) -> Viewer:
    return _admin(viewer, request.query_params)


async def _admin_form(request: Request, viewer: SteppedUpForm) -> Viewer:
    """Same origin and form token first (``FormViewer``), so a forged post
    learns nothing, not even whether its sender is an admin; then a recent
    sign-in (``SteppedUpForm``): an admin change is a sensitive one."""
    return _admin(viewer, await request.form())


#: The administrator viewing a console page (``viewer.PageViewer``, and the
#: role); the route's router needs ``route_class=viewer.PageRoute``.
AdminViewer = Annotated[Viewer, Depends(_admin_page)]
#: The administrator posting a console form (``viewer.SteppedUpForm``, and
#: the role).
AdminForm = Annotated[Viewer, Depends(_admin_form)]


@asynccontextmanager
async def admin_transaction(
    services: Services, viewer: Viewer
) -> AsyncIterator[Stores]:
    """One transaction for one console action, opened only while the viewer is
    still an active administrator: one who lost the role (or the account)
    since the page was shown gets the 403 page (``viewer.Refused``, answered
    by the route), whatever the action would have caught."""
    async with services.db.transaction() as tx:
        user = await tx.users.get(viewer.user.id)
        if user is None or not user.active or not user.is_admin:
            raise Refused(error_page(NOT_ADMIN, status=403))
        yield tx


def console_page(
    viewer: Viewer, template: str, *, section: str, status: int = 200, **context: Any
) -> HTMLResponse:
    """A console page: the layout's header and the admin navigation, with
    ``section`` marked as the current page."""
    return viewer_page(viewer, template, status=status, section=section, **context)


async def usernames(tx: Stores, ids: Iterable[str | None]) -> dict[str, str]:
    """Usernames for the user ids a page shows (actors, creators), so people
    read names; a user id no account holds any more reads as a deleted
    user's (``domain.deletion`` keeps the audit log's ids), and an id that
    names no user (a client) is left out and shown as it is."""
    found: dict[str, str] = {}
    for user_id in {i for i in ids if i and i.startswith("usr_")}:
        user = await tx.users.get(user_id)
        found[user_id] = user.username if user else f"deleted user ({user_id})"
    return found
