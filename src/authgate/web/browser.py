"""The person at the browser, for the pages and the authorization server's
pages alike: who is signed in (a session cookie, not a bearer token), the
token their forms carry, and the way to sign in and come back.
"""

from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from authgate.config import Settings
from authgate.errors import Forbidden
from authgate.guard import Principal
from authgate.server.services import Services
from authgate.web import paths
from authgate.web.render import error_page
from authgate.web.security import SESSION_COOKIE, check_form, csrf_token, read_cookie


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


def form_refused(
    request: Request, services: Services, presented: str
) -> Response | None:
    """The error page when a signed-in page's form does not carry its token
    (``presented``); ``None`` when it does."""
    try:
        check_form(
            request,
            services.derived_keys("csrf"),
            services.settings,
            presented=presented,
            bound_to=form_binding(request, services.settings),
        )
    except Forbidden as exc:
        return error_page(exc.description, status=403)
    return None


def form_binding(request: Request, settings: Settings) -> str:
    """What a signed-in page's form token is bound to."""
    return read_cookie(request, settings, SESSION_COOKIE) or "local"


def login_redirect(request: Request, here: str | None = None) -> RedirectResponse:
    """Off to sign in, then back to this very page (or to ``here``)."""
    if here is None:
        query = request.url.query
        here = request.url.path + (f"?{query}" if query else "")
    return RedirectResponse(
        f"{paths.LOGIN}?" + urlencode({"next": here}), status_code=303
    )


def reauth_redirect(next_url: str, level: str | None = None) -> RedirectResponse:
    """Off to confirm who you are again (``/reauth``), then on to ``next_url``;
    ``level``: the ``acr`` to reach (``aal2``: with the second factor)."""
    query = {"next": next_url, **({"acr": level} if level else {})}
    return RedirectResponse(f"{paths.REAUTH}?" + urlencode(query), status_code=303)
