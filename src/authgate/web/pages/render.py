"""Rendering pages, and what the page routes share: the signed-in user, the
form token, the sign-in redirect, safe ``next`` targets."""

from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from authgate.guard import Principal
from authgate.web.security import SESSION_COOKIE, csrf_token
from authgate.web.services import Services

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
    "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)

#: What each scope lets an application do, in words a person reads.
SCOPE_TEXT = {
    "openid": "Confirm who you are",
    "profile": "See your username",
    "email": "See your email address",
    "read": "Read your data",
    "write": "Change your data",
}


def page(
    template: str,
    *,
    status: int = 200,
    form_targets: Iterable[str] = (),
    **context: Any,
) -> HTMLResponse:
    csp = _CSP + "".join(f" {t}" for t in form_targets)
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
    return csrf_token(services.derived_key("csrf"), form_binding(request))


def form_binding(request: Request) -> str:
    """What a signed-in page's form token is bound to."""
    return request.cookies.get(SESSION_COOKIE) or "local"


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
    return RedirectResponse("/login?" + urlencode({"next": here}), status_code=303)


def origin_of(uri: str) -> str | None:
    """The CSP source for a redirect URI: its origin, or its scheme for a
    private-use scheme."""
    parts = urlsplit(uri)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return f"{parts.scheme}:" if parts.scheme else None
