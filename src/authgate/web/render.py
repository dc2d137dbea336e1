"""Rendering a page: one Jinja environment over ``templates/``, and the headers
every page answers with (a strict CSP, ``no-store``, ``same-origin`` referrer).

Shared by the pages (``web.pages``) and the authorization server's own pages
(consent, ``/device``), which import nothing from each other.

- ``scripts=True`` lets a page load this site's own script files (no inline
  script, ever): progressive enhancement only, such as ``/static/copy.js``.
- Templates format moments with the ``when`` filter:
  ``{{ token.last_used_at|when("Never") }}``, draw a QR code with ``qr``
  (inline SVG, so it needs no script: ``{{ enrolment.uri|qr }}``), and link to
  pages by name: ``href="{{ paths.LOGIN }}"`` (``web.paths``).
"""

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import segno
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from authgate.web import paths

TEMPLATES = Path(__file__).resolve().parent / "templates"
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


def _qr(text: str) -> Markup:
    svg = segno.make(text, error="m").svg_inline(
        scale=4, border=4, dark="#000", light="#fff", title="QR code"
    )
    return Markup(svg)  # noqa: S704 - segno draws paths: no text of ours in it


_env.filters["when"] = _when
_env.filters["qr"] = _qr
_env.globals["paths"] = paths


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


def origin_of(uri: str) -> str | None:
    """The CSP source for a redirect URI (a page's ``form_targets``): its
    origin, or its scheme for a private-use scheme."""
    parts = urlsplit(uri)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return f"{parts.scheme}:" if parts.scheme else None
