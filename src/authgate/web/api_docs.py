"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), with every file they load
served by this server.

These pages run on the origin that holds an administrator's session cookie.
FastAPI's defaults load Swagger UI and ReDoc from a public CDN and start them
with an inline script, under no CSP: whoever serves (or takes over) that CDN
path runs script as the administrator. Here the files come from the pinned
``fastapi-offline`` package (installed from PyPI, its hash in ``uv.lock``), a
script of ours (``/static/api-docs.js``) starts them, and the pages' CSP lets
scripts come from this origin only and send requests nowhere else.
``AUTHGATE_API_DOCS_ENABLED=false`` removes both pages and their files.
"""

from html import escape
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(str(files("fastapi_offline") / "static"))
#: Where the package's files are served (before ``/static``, which would take it).
ASSETS_PATH = "/static/api-docs"
CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        # Both render with style attributes, and ReDoc adds <style> elements.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        # ReDoc's search runs in a worker it makes from a blob.
        "worker-src blob:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="{assets}/favicon.png">
{styles}</head>
<body>
<main id="api-docs" data-ui="{ui}" data-openapi-url="{openapi}"></main>
<script src="{assets}/{script}"></script>
<script src="{root}/static/api-docs.js"></script>
</body>
</html>
"""


def _page(request: Request, app: FastAPI, *, ui: str, script: str) -> HTMLResponse:
    root = escape(request.scope.get("root_path", "").rstrip("/"))
    assets = root + ASSETS_PATH
    styles = (
        f'<link rel="stylesheet" href="{assets}/swagger-ui.css">\n'
        if ui == "swagger"
        else ""
    )
    html = _PAGE.format(
        title=escape(f"{app.title} API"),
        assets=assets,
        styles=styles,
        ui=ui,
        openapi=root + escape(app.openapi_url or ""),
        script=script,
        root=root,
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": CSP})


def install(app: FastAPI) -> None:
    """The two pages and the package's files; before ``/static`` is mounted."""
    app.mount(ASSETS_PATH, StaticFiles(directory=ASSETS), name="api-docs")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        return _page(request, app, ui="swagger", script="swagger-ui-bundle.js")

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        return _page(request, app, ui="redoc", script="redoc.standalone.js")
