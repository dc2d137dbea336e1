"""Two-step sign-in in a real browser (Debian's headless Chromium), with
JavaScript off and on: an authenticator app set up on Settings → Security with
the key read off the page, then signing in with the password and a code, and
with a recovery code. Every page goes through axe (with script on: axe needs
it) and, on demand, a screenshot.

The rules in detail are covered cheaper without a browser in
tests/integration/pages/test_factor_pages.py.
"""

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.support.actions import Actions
from tests.support.browser import (
    MARKS,
    check_accessibility,
    fill_sign_in,
    open_signed_in,
    screenshot,
)
from tests.support.live import LiveServer
from tests.support.totp import at_step_start, code

pytestmark = MARKS


def sign_out(page: Page, server: LiveServer) -> None:
    page.get_by_role("button", name="Sign out", exact=True).click()
    page.wait_for_url(f"{server.url}/login")


@pytest.mark.parametrize("script", [False, True], ids=["no-js", "js"])
def test_an_app_set_up_then_used_to_sign_in(
    contexts: Callable[..., BrowserContext],
    server: LiveServer,
    actions: Actions,
    script: bool,
) -> None:
    login = actions.user()
    page = open_signed_in(
        contexts,
        server,
        login.username,
        "/settings/security",
        java_script_enabled=script,
    )

    def check_page(page: Page, name: str) -> None:
        if script:
            check_accessibility(page)
        screenshot(page, name)

    check_page(page, "settings-security")
    at_step_start()
    page.get_by_role("button", name="Set up an authenticator app").click()
    expect(page.get_by_role("img", name="QR code of the key")).to_be_visible()
    check_page(page, "settings-security-totp-setup")
    secret = page.locator("#totp-secret").inner_text().strip()
    page.get_by_label("Code from the app").fill(code(secret, -1))
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.get_by_role("heading", name="Two-step sign-in is on")).to_be_visible()
    check_page(page, "settings-security-recovery-codes")
    codes = page.locator("#recovery-codes").inner_text().split()
    assert len(codes) == 10
    page.get_by_role("link", name="Back to security").click()
    expect(page.get_by_text("An authenticator app is set up")).to_be_visible()
    sign_out(page, server)

    # The password, then a code from the app.
    page.goto(f"{server.url}/login?next=/settings/sessions")
    fill_sign_in(page, login.username)
    expect(page.get_by_role("heading", name="Two-step sign-in")).to_be_visible()
    check_page(page, "login-mfa")
    page.get_by_label("Code from your authenticator app").fill("000000")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("That code is not right")
    check_page(page, "login-mfa-wrong-code")
    page.get_by_label("Code from your authenticator app").fill(code(secret))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{server.url}/settings/sessions")
    sign_out(page, server)

    # The password, then a recovery code in place of the app.
    page.goto(f"{server.url}/login")
    fill_sign_in(page, login.username)
    page.get_by_label("One of your recovery codes").fill(codes[0])
    page.get_by_role("button", name="Use a recovery code").click()
    page.wait_for_url(f"{server.url}/settings/profile")
    page.goto(f"{server.url}/settings/security")
    expect(page.get_by_text("You have 9 unused.")).to_be_visible()


@pytest.mark.parametrize("script", [False, True], ids=["no-js", "js"])
def test_an_app_set_up_at_sign_in_where_one_is_required(
    contexts: Callable[..., BrowserContext],
    start_server: Callable[..., LiveServer],
    script: bool,
) -> None:
    server = start_server(require_mfa=True)
    with server.client() as http:
        login = Actions(http).register()
        assert login.status_code == 201, login.text
    username = login.json()["username"]
    page = contexts(java_script_enabled=script).new_page()

    def check_page(page: Page, name: str) -> None:
        if script:
            check_accessibility(page)
        screenshot(page, name)

    page.goto(f"{server.url}/login?next=/settings/sessions")
    at_step_start()
    fill_sign_in(page, username)
    expect(page.get_by_role("heading", name="Set up two-step sign-in")).to_be_visible()
    expect(page.get_by_role("img", name="QR code of the key")).to_be_visible()
    check_page(page, "login-enrol")
    secret = page.locator("#totp-secret").inner_text().strip()
    page.get_by_label("Code from the app").fill(code(secret))
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.get_by_role("heading", name="Two-step sign-in is on")).to_be_visible()
    check_page(page, "login-enrol-recovery-codes")
    assert len(page.locator("#recovery-codes").inner_text().split()) == 10
    page.get_by_role("link", name="Continue").click()
    page.wait_for_url(f"{server.url}/settings/sessions")
    sign_out(page, server)

    # The next sign-in asks for a code of the app set up.
    page.goto(f"{server.url}/login")
    fill_sign_in(page, username)
    page.get_by_label("Code from your authenticator app").fill(code(secret, 1))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{server.url}/settings/profile")
