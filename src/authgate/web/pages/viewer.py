"""What the page routes for signed-in people share: the viewer, the form
token check, and the sign-in redirect when there is nobody.

A page for signed-in people (Settings, Organizations, Admin) is written the
same way every time, so every page gets the layout's header (username,
Settings, Admin for instance admins, Sign out) and the same defences::

    router = APIRouter(tags=["pages"], include_in_schema=False, route_class=PageRoute)

    @router.get("/settings/things", response_model=None)
    async def things(viewer: PageViewer) -> Response:
        # Signed out or session ended: the handler never runs, the answer is
        # the redirect to /login?next=…
        return viewer_page(viewer, "settings/things.html", section="things", ...)

    @router.post("/settings/things", response_model=None)
    async def add_thing(viewer: FormViewer, services: ServicesDep) -> Response:
        # Also refused (the 403 page) for a form from elsewhere or without the
        # viewer's form token.
        ...
        return RedirectResponse("/settings/things", status_code=303)

- :data:`PageViewer` gives the :class:`Viewer` (the signed-in ``user``, its
  ``principal``, the ``csrf`` form token); signed out, the page answers the
  redirect to sign in and back (:func:`current_viewer`).
- :data:`FormViewer` is the same for a form post, which must also come from
  this origin and carry the form token (``check_form``, the ``csrf_token``
  field); refused, the page answers the error page with 403
  (:func:`form_viewer`).
- :data:`SteppedUpForm` is a :data:`FormViewer` whose sign-in is also recent
  enough for a sensitive change (RFC 9470 step-up, ``deps.sign_in_shortfall``);
  a stale one is sent to ``/reauth`` and back to the page it posted from.
- All are dependencies, so, as for the API's credentials, who is asking is
  settled before the handler's own fields are checked. A dependency answers
  for the page by raising :class:`Refused`, which only a router with
  ``route_class=PageRoute`` turns into that answer.
- :func:`viewer_page` renders a template with ``viewer`` (the ``User``) and
  ``csrf`` in its context: the layout reads both, and every form on the page
  carries ``<input type="hidden" name="csrf_token" value="{{ csrf }}">``.
  Templates for signed-out pages leave ``viewer`` out; the header then shows
  no navigation. Settings templates extend ``settings/layout.html`` and pass
  ``section`` (``profile``, ``sessions``, ``tokens``, ``keys``, ``security``,
  ``orgs``) to mark where the person is.

Rendering itself (``page``, ``error_page``, ``scripts=True``, the ``when``
filter) is ``web.render``.
"""

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Form, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute

from authgate.domain.users import User
from authgate.guard import Principal
from authgate.server.services import Services
from authgate.web import paths
from authgate.web.browser import (
    form_refused,
    form_token,
    login_redirect,
    reauth_redirect,
    signed_in,
)
from authgate.web.deps import ServicesDep, sign_in_shortfall
from authgate.web.render import page

#: The hidden form field every signed-in page's form posts its token in.
CsrfField = Annotated[str, Form(alias="csrf_token", max_length=256)]


@dataclass(frozen=True, slots=True)
class Viewer:
    """The person a signed-in page is for: the account, how they signed in,
    and the token their forms carry."""

    user: User
    principal: Principal
    csrf: str


async def current_viewer(request: Request, services: Services) -> Viewer | Response:
    """The signed-in viewer, or the redirect to ``/login`` and back here. A
    revoked, expired or idle session resolves to nobody, so its next click
    lands on the sign-in page."""
    principal = signed_in(request)
    user = await services.user(principal.user_id or "") if principal else None
    if principal is None or user is None or not user.active:
        return login_redirect(request)
    return Viewer(user=user, principal=principal, csrf=form_token(request, services))


async def form_viewer(
    request: Request, services: Services, presented: str
) -> Viewer | Response:
    """:func:`current_viewer` for a form post, which must also come from this
    origin and carry the viewer's form token; else the 403 error page."""
    viewer = await current_viewer(request, services)
    if not isinstance(viewer, Viewer):
        return viewer
    return form_refused(request, services, presented) or viewer


def viewer_page(
    viewer: Viewer,
    template: str,
    *,
    status: int = 200,
    scripts: bool = False,
    **context: Any,
) -> HTMLResponse:
    """A signed-in page: the layout's header needs ``viewer`` and ``csrf``."""
    return page(
        template,
        status=status,
        scripts=scripts,
        viewer=viewer.user,
        csrf=viewer.csrf,
        **context,
    )


class Refused(Exception):
    """A page dependency's answer in place of the value it gives (the sign-in
    redirect, a 403 page): dependencies cannot return a response of their own."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class PageRoute(APIRoute):
    """The route class of page routers: a dependency's :class:`Refused` is the
    page's answer."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handle(request)
            except Refused as refused:
                return refused.response

        return answer


def _given(found: Viewer | Response) -> Viewer:
    """The viewer, or :class:`Refused` with the page that answers instead."""
    if isinstance(found, Viewer):
        return found
    raise Refused(found)


async def _page_viewer(request: Request, services: ServicesDep) -> Viewer:
    return _given(await current_viewer(request, services))


async def _form_viewer(
    request: Request, services: ServicesDep, csrf_token: CsrfField = ""
) -> Viewer:
    return _given(await form_viewer(request, services, csrf_token))


def _came_from(request: Request) -> str:
    """The page a form was posted from, a path on this site (the layout's
    ``Referrer-Policy: same-origin`` sends it); else the Settings home."""
    referer = urlsplit(request.headers.get("referer", ""))
    here = referer.path + (f"?{referer.query}" if referer.query else "")
    return paths.safe_next(here) or paths.HOME


async def _stepped_up_form(
    request: Request,
    services: ServicesDep,
    viewer: Annotated[Viewer, Depends(_form_viewer)],
) -> Viewer:
    gap = await sign_in_shortfall(services, viewer.principal)
    if gap is not None:
        raise Refused(reauth_redirect(_came_from(request), gap.level))
    return viewer


#: The signed-in viewer of a page (see the module's docstring).
PageViewer = Annotated[Viewer, Depends(_page_viewer)]
#: The signed-in viewer of a form post with its form token.
FormViewer = Annotated[Viewer, Depends(_form_viewer)]
#: A :data:`FormViewer` with a recent sign-in: sensitive changes.
SteppedUpForm = Annotated[Viewer, Depends(_stepped_up_form)]
