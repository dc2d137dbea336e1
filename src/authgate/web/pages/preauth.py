"""Form tokens for the pages used before there is a session: sign in,
register, forgot password.

There is no session to bind a CSRF token to yet, so a form's token is an HMAC
of a random pre-session cookie (``ag_login``, scoped to the page's own path on
http; ``__Host-ag_login`` on https, which needs ``Path=/``):
a cross-site page can neither read that cookie nor compute the token (login
CSRF, OWASP), and a token copied from another browser is worthless without it.
"""

import secrets
from typing import Annotated, Any

from fastapi import Query, Request, Response
from fastapi.responses import HTMLResponse

from authgate.errors import Forbidden
from authgate.server.services import Services
from authgate.web.render import error_page, page
from authgate.web.security import (
    check_form,
    csrf_token,
    delete_cookie,
    read_cookie,
    set_cookie,
)

COOKIE = "ag_login"
COOKIE_AGE = 3600

#: A mailed link's token (``/verify-email``, ``/reset``), of any length: a
#: link mangled on its way (or made up) gets the page saying it does not work,
#: not a validation error; the token's shape check bounds the work.
LinkToken = Annotated[str, Query()]


#: what the sign-in forms' tokens are keyed for (``Services.derived_key``)
_PURPOSE = "login-csrf"


def form_page(
    request: Request,
    services: Services,
    template: str,
    *,
    path: str,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """``template`` with ``csrf_token`` for its form, and the cookie it is
    bound to (kept when the browser already has one, so two tabs both work)."""
    settings = services.settings
    nonce = read_cookie(request, settings, COOKIE) or secrets.token_urlsafe(32)
    response = page(
        template,
        status=status,
        csrf_token=csrf_token(services.derived_key(_PURPOSE), nonce),
        **context,
    )
    set_cookie(
        response,
        settings,
        COOKIE,
        nonce,
        max_age=COOKIE_AGE,
        httponly=True,
        samesite="lax",
        path=path,
    )
    return response


def refusal(request: Request, services: Services, presented: str) -> Response | None:
    """``None`` when the form came from this site with its token; else the
    403 page to answer with."""
    try:
        check_form(
            request,
            services.derived_keys(_PURPOSE),
            services.settings,
            presented=presented,
            bound_to=read_cookie(request, services.settings, COOKIE) or "",
        )
    except Forbidden as exc:
        return error_page(exc.description, status=403)
    return None


def forget(response: Response, services: Services, *, path: str) -> None:
    """Drop the pre-session cookie once the form has done its work."""
    delete_cookie(response, services.settings, COOKIE, path=path)
