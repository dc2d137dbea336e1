"""Rendering pages, and what the page routes share: the signed-in user, the
form token, the sign-in redirect, safe ``next`` targets.

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
- Both are dependencies, so, as for the API's credentials, who is asking is
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
- ``scripts=True`` lets a page load this site's own script files (no inline
  script, ever): progressive enhancement only, such as ``/static/copy.js``.
- Templates format moments with the ``when`` filter:
  ``{{ token.last_used_at|when("Never") }}``.
"""

from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from authgate.config import Settings
from authgate.domain import clients
from authgate.domain.users import User
from authgate.errors import Forbidden
from authgate.guard import Principal
from authgate.server.services import Services
from authgate.web import paths
from authgate.web.deps import ServicesDep
from authgate.web.security import SESSION_COOKIE, check_form, csrf_token, read_cookie

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(("html",)),
    undefined=StrictUndefined,
)

#: No script, no plugins, no framing, forms to this origin only (plus, on the
#: consent page, the client's redirect URI: Chromium applies form-action to the
#: redirect that answers the form).
_CSP = (
    "default-src 'self'; script-src {script}; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


def _when(value: datetime | None, empty: str = "—") -> str:
    """A moment as people read it in a table: ``2026-11-23 08:04 UTC``."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else empty


_env.filters["when"] = _when
#: Templates link to pages by name: ``href="{{ paths.LOGIN }}"``.
_env.globals["paths"] = paths

#: What each scope lets an application do, in words a person reads.
SCOPE_TEXT = {
    "openid": "Confirm who you are",
    "profile": "See your username",
    "email": "See your email address",
    "read": "Read your data",
    "write": "Change your data",
    "admin": "Administer this Authgate server",
}
#: Scopes shown apart, as a warning: they reach beyond the person's own data.
POWERFUL_SCOPES = frozenset({"admin"})


@dataclass(frozen=True, slots=True)
class AskingClient:
    """Who asks on a consent or ``/device`` page: the name a client gives
    itself proves nothing, so the page also says how the server knows it, and
    warns when nobody it trusts vouches for it (RFC 8628 §5.4, RFC 9700 §4.14)."""

    name: str
    known_as: str
    unverified: bool
    #: Its tokens act with all the person's rights (the Authgate CLI).
    full_rights: bool = False


def asking_client(client: clients.Client) -> AskingClient:
    match client.registration:
        case "builtin":
            known_as = f"built in ({client.name})"
        case "admin":
            known_as = "created by an administrator"
        case "dynamic":
            origin = f" from {client.registered_from}" if client.registered_from else ""
            known_as = (
                f"registered dynamically{origin} on "
                f"{client.created_at.astimezone(UTC):%Y-%m-%d}"
            )
        case "metadata_document":
            host = urlsplit(client.id).netloc or client.id
            known_as = f"client ID metadata document hosted at {host}"
    return AskingClient(
        client.name,
        known_as,
        unverified=not client.verified,
        full_rights=client.id in clients.FIRST_PARTY_CLIENTS,
    )


def scope_lines(scopes: Iterable[str]) -> list[tuple[str, str, bool]]:
    """Each scope as (name, words, powerful) for a consent or ``/device`` page."""
    return [(s, SCOPE_TEXT.get(s, s), s in POWERFUL_SCOPES) for s in scopes]


def page(
    template: str,
    *,
    status: int = 200,
    form_targets: Iterable[str] = (),
    scripts: bool = False,
    **context: Any,
) -> HTMLResponse:
    """``scripts``: the page loads this site's own script files (progressive
    enhancement, such as a copy button; the page works without them). Inline
    script is never allowed."""
    csp = _CSP.format(script="'self'" if scripts else "'none'")
    csp += "".join(f" {t}" for t in form_targets)
    return HTMLResponse(
        _env.get_template(template).render(**context),
        status_code=status,
        headers={
            "Content-Security-Policy": csp,
            "Cache-Control": "no-store",
            # Not the API's no-referrer: under it browsers send ``Origin: null``
            # with a form post, and the forms' origin check could not pass.
            # same-origin still sends nothing to other sites.
            "Referrer-Policy": "same-origin",
        },
    )


def error_page(
    message: str, *, status: int = 400, code: str | None = None
) -> HTMLResponse:
    heading = "Access refused" if status in (401, 403) else "Something went wrong"
    if status == 429:
        heading = "Too many attempts"
    return page(
        "error.html", status=status, heading=heading, message=message, code=code
    )


def signed_in(request: Request) -> Principal | None:
    """The person using the browser: a session cookie (or single-user mode's
    local owner). A bearer token does not make a page user."""
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None or principal.kind not in ("session", "local"):
        return None
    return principal if principal.user_id else None


def form_token(request: Request, services: Services) -> str:
    """The CSRF token of a signed-in page's forms: an HMAC of the session token
    (single-user mode has none; its forms rely on the origin check)."""
    return csrf_token(
        services.derived_key("csrf"), form_binding(request, services.settings)
    )


def form_binding(request: Request, settings: Settings) -> str:
    """What a signed-in page's form token is bound to."""
    return read_cookie(request, settings, SESSION_COOKIE) or "local"


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site; ``None`` for anything that
    could leave it (absolute URLs, ``//host``, ``/\\host``, control characters)."""
    if not target or len(target) > 4096 or not target.startswith("/"):
        return None
    if target.startswith(("//", "/\\")) or any(c in target for c in "\\\r\n\t"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def login_redirect(request: Request) -> RedirectResponse:
    """Off to sign in, then back to this very page."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(
        f"{paths.LOGIN}?" + urlencode({"next": here}), status_code=303
    )


def origin_of(uri: str) -> str | None:
    """The CSP source for a redirect URI: its origin, or its scheme for a
    private-use scheme."""
    parts = urlsplit(uri)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return f"{parts.scheme}:" if parts.scheme else None


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
    try:
        check_form(
            request,
            services.derived_key("csrf"),
            services.settings,
            presented=presented,
            bound_to=form_binding(request, services.settings),
        )
    except Forbidden as exc:
        return error_page(exc.description, status=403)
    return viewer


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


#: The signed-in viewer of a page (see the module's docstring).
PageViewer = Annotated[Viewer, Depends(_page_viewer)]
#: The signed-in viewer of a form post with its form token.
FormViewer = Annotated[Viewer, Depends(_form_viewer)]
