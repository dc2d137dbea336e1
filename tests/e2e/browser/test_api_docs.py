"""``/docs`` and ``/redoc`` render in Chromium from this server's files alone,
under a CSP that allows script from this origin only: nothing loads from a
CDN on the origin that holds an administrator's cookies.

No axe check here, unlike the other pages: Swagger UI's own markup fails it
(colour contrast, nested buttons), and it is not ours to change."""

from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import ConsoleMessage, Page, Request, Route

from tests.support.browser import MARKS
from tests.support.live import LiveServer

pytestmark = MARKS


def watch(page: Page, server: LiveServer) -> tuple[list[str], list[str]]:
    """The URLs elsewhere that the page sent a request to (caught before the
    network and aborted) or got an answer from, and the CSP violations it
    reports."""
    here = urlsplit(server.url).netloc
    elsewhere: list[str] = []
    violations: list[str] = []

    def outside(url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme not in ("data", "blob") and parts.netloc != here

    def on_route(route: Route) -> None:
        if outside(route.request.url):
            elsewhere.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    def on_finished(request: Request) -> None:
        if outside(request.url):
            elsewhere.append(request.url)

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            violations.append(message.text)

    page.route("**/*", on_route)
    page.on("requestfinished", on_finished)
    page.on("console", on_console)
    return elsewhere, violations


def test_the_docs_load_nothing_from_elsewhere(server: LiveServer, page: Page) -> None:
    elsewhere, violations = watch(page, server)
    answer = page.goto(f"{server.url}/docs")
    assert answer is not None
    assert answer.status == 200
    csp = answer.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";", 1)[0]
    page.locator(".opblock-summary-path", has_text="/api/v1/me").first.wait_for()

    answer = page.goto(f"{server.url}/redoc")
    assert answer is not None
    assert answer.status == 200
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    page.get_by_role("heading", name="Authgate").first.wait_for()
    page.get_by_text("/api/v1/me").first.wait_for(state="attached")

    assert not elsewhere
    # The pages start with no inline script; what the CSP stops is ReDoc's
    # attempt at its vendor's logo (an image, hidden when it fails).
    assert not [v for v in violations if "script-src" in v]
    assert all("cdn.redoc.ly" in v for v in violations), violations


def test_the_setting_turns_them_off(start_server: Callable[..., LiveServer]) -> None:
    server = start_server(api_docs_enabled=False)
    with server.client() as http:
        for path in ("/docs", "/redoc", "/static/api-docs/swagger-ui-bundle.js"):
            assert http.get(path).status_code == 404, path
        assert http.get("/openapi.json").status_code == 200
    on = start_server()
    answer = httpx.get(f"{on.url}/static/api-docs/swagger-ui-bundle.js")
    assert answer.status_code == 200
