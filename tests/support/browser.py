"""Debian's headless Chromium, driven by Playwright (never ``playwright
install``: the browser comes from apt, see ``.ci/run``).

Every browser test of a page also calls :func:`check_accessibility` (axe-core,
from npm, pinned in ``tests/e2e/browser/package-lock.json`` and installed there
with ``npm ci`` on first use) and :func:`screenshot` (which writes
``docs/screenshots/{name}.png`` only under ``AUTHGATE_SCREENSHOTS=1``, as
``./dev screenshots`` sets it).
"""

import fcntl
import functools
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode

import pytest
from playwright._impl._api_structures import SetCookieParam
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Cookie,
    Page,
    ViewportSize,
    sync_playwright,
)

from tests.support.actions import PASSWORD
from tests.support.live import LiveServer

#: A browser test module's ``pytestmark``: a live server on one database.
#: SQLite is enough: the storage paths are the integration suites', run on
#: every database.
MARKS = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]
CHROMIUM = Path("/usr/bin/chromium")
#: Headless in a container, and nothing that phones home.
ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-features=AutofillServerCommunication",
]


def require_chromium() -> None:
    """Skip where the browser is not installed (a failure in CI)."""
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {CHROMIUM} is not installed")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")


@contextmanager
def chromium() -> Iterator[Browser]:
    """The browser, or a skip where it is not installed (a failure in CI)."""
    require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


ROOT = Path(__file__).resolve().parents[2]
NODE_PROJECT = ROOT / "tests" / "e2e" / "browser"
AXE = NODE_PROJECT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "docs" / "screenshots"
#: Screenshots are taken at one size, so they change only when a page does.
SCREENSHOT_VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
#: What fails the check: axe's two worst impact levels.
BLOCKING = ("serious", "critical")


@functools.cache
def axe_source() -> str:
    """axe-core's script, installed from the lock file the first time (a fresh
    clone has no node_modules; the code is never copied into the repo). Test
    workers running side by side (pytest -n) install it one at a time."""
    with open(NODE_PROJECT / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not AXE.exists():
            _npm_ci()
    return AXE.read_text()


def _npm_ci() -> None:
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is needed to install axe-core for the browser tests")
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"],
        cwd=NODE_PROJECT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0 or not AXE.exists():
        pytest.fail(f"npm ci in {NODE_PROJECT} failed:\n{done.stderr}")


def _describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"[{violation['impact']}] {violation['id']}: {violation['help']}"
            f" ({violation['helpUrl']})"
        )
        for node in violation["nodes"][:5]:
            lines.append(f"    at {' '.join(node['target'])}: {node['html'][:160]}")
            summary = node.get("failureSummary") or ""
            lines.extend(f"      {line}" for line in summary.splitlines())
    return "\n".join(lines)


def check_accessibility(page: Page) -> None:
    """axe-core on the page as it is now: no serious or critical violation.
    Evaluated through the DevTools protocol, so the page's CSP (which allows
    no script) stays as it is."""
    page.evaluate(axe_source())
    result = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    blocking = [v for v in result["violations"] if v["impact"] in BLOCKING]
    assert not blocking, f"accessibility violations on {page.url}:\n" + _describe(
        blocking
    )


def screenshot(page: Page, name: str) -> None:
    """``docs/screenshots/{name}.png`` of the whole page at a fixed viewport,
    only when ``AUTHGATE_SCREENSHOTS=1`` (``./dev screenshots``)."""
    if os.environ.get("AUTHGATE_SCREENSHOTS") != "1":
        return
    before = page.viewport_size
    page.set_viewport_size(SCREENSHOT_VIEWPORT)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=SCREENSHOTS / f"{name}.png", full_page=True, animations="disabled"
    )
    if before is not None:
        page.set_viewport_size(before)


def check_page(page: Page, name: str) -> None:
    """Every page a browser test visits: axe, and its screenshot on demand."""
    check_accessibility(page)
    screenshot(page, name)


def fill_sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    """On ``/login``: the form, filled in and sent."""
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def sign_in(page: Page, server: LiveServer, username: str, path: str) -> None:
    """Sign in on ``/login`` and land on ``path``."""
    page.goto(f"{server.url}/login?{urlencode({'next': path})}")
    fill_sign_in(page, username)
    page.wait_for_url(lambda url: url == f"{server.url}{path}")


def open_signed_in(
    contexts: Callable[..., BrowserContext],
    server: LiveServer,
    username: str,
    path: str,
    **options: Any,
) -> Page:
    """A new browser (``options`` for its context), signed in on ``/login``
    and sent on to ``path``."""
    page = contexts(**options).new_page()
    sign_in(page, server, username, path)
    return page


def settable(*cookies: Cookie) -> list[SetCookieParam]:
    """Cookies read from a context, to add to one: the same dictionaries,
    which Playwright types apart (``SetCookieParam``, not re-exported, has
    every field optional) though ``add_cookies`` takes what ``cookies`` gave."""
    return cast(list[SetCookieParam], list(cookies))
