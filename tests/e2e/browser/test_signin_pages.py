"""Sign-in pages in a real browser (Debian's headless Chromium): the first
account, invite-only registration, a wrong password and a locked account
shown alike, a forgotten password reset with a recovery key, ``next`` that
never leaves the site, sign out; and the same forms with JavaScript off.
Every page goes through axe and, on demand, a screenshot.

Each form's CSRF refusal and the rules in detail are covered cheaper without
a browser in tests/integration/pages/test_signin_forms.py.
"""

from collections.abc import Callable
from weakref import WeakKeyDictionary

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.support.actions import PASSWORD, Actions, random_name
from tests.support.browser import (
    MARKS,
    check_accessibility,
    fill_sign_in,
    screenshot,
)
from tests.support.live import LiveServer

pytestmark = MARKS

NEW_PASSWORD = "a brand new passphrase for tests"
REFUSED = "Invalid username or password."


@pytest.fixture(params=[True, False], ids=["js", "no-js"])
def page(
    request: pytest.FixtureRequest, contexts: Callable[..., BrowserContext]
) -> Page:
    """A page with JavaScript on, and again with it off: every flow works
    without script."""
    found = contexts(java_script_enabled=request.param).new_page()
    SCRIPTED[found] = request.param
    return found


#: Whether each page runs script: axe needs it, so a page without gets its
#: screenshot only (its twin with script on went through axe on the same pages).
SCRIPTED: "WeakKeyDictionary[Page, bool]" = WeakKeyDictionary()


def check(page: Page, name: str) -> None:
    if SCRIPTED.get(page, True):
        check_accessibility(page)
    screenshot(page, name)


def test_the_first_person_creates_the_administrator(
    page: Page, server: LiveServer
) -> None:
    page.goto(f"{server.url}/login")
    check(page, "login")
    page.get_by_role("link", name="Create an account").click()
    expect(
        page.get_by_role("heading", name="Create the administrator account")
    ).to_be_visible()
    expect(page.get_by_label("Invite code")).to_have_count(0)
    check(page, "register-first")
    name = random_name("root")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Email").fill(f"{name}@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(f"{server.url}/settings/profile")
    header = page.get_by_role("navigation", name="Account")
    expect(header).to_contain_text(name)
    expect(header.get_by_role("link", name="Admin")).to_be_visible()
    check(page, "settings-profile")


def test_later_people_register_with_an_invite(
    page: Page, server: LiveServer, actions: Actions
) -> None:
    actions.admin()
    page.goto(f"{server.url}/register")
    expect(page.get_by_role("heading", name="Create an account")).to_be_visible()
    check(page, "register-invite")
    name = random_name()
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Invite code").fill("not-a-real-code")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_have_text(
        "That invite code is invalid, used or expired."
    )
    # What was typed is kept, but not the password.
    expect(page.get_by_label("Username")).to_have_value(name)
    expect(page.get_by_label("Password")).to_have_value("")
    check(page, "register-error")

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Invite code").fill(actions.invite())
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(f"{server.url}/settings/profile")
    header = page.get_by_role("navigation", name="Account")
    expect(header).to_contain_text(name)
    expect(header.get_by_role("link", name="Admin")).to_have_count(0)


def test_a_wrong_password_and_a_locked_account_look_alike(
    contexts: Callable[..., BrowserContext], start_server: Callable[..., LiveServer]
) -> None:
    server = start_server(max_login_attempts=3)
    with server.client() as http:
        actions = Actions(http)
        name = actions.user().username
    page = contexts().new_page()

    def refusal(username: str, password: str) -> str:
        page.goto(f"{server.url}/login")
        fill_sign_in(page, username, password)
        alert = page.get_by_role("alert")
        expect(alert).to_be_visible()
        return alert.inner_text()

    wrong = refusal(name, "not the password")
    check(page, "login-error")
    unknown = refusal(random_name("nobody"), "not the password")
    for _ in range(3):
        refusal(name, "not the password")
    locked = refusal(name, PASSWORD)  # the right password, but locked now
    assert wrong == unknown == locked == REFUSED


def test_a_forgotten_password_is_reset_with_the_recovery_key(
    page: Page, server: LiveServer, actions: Actions
) -> None:
    login = actions.user()
    key = actions.client.post(
        "/api/v1/recovery-key", headers=login.bearer, json={"password": PASSWORD}
    ).json()["recovery_key"]
    page.goto(f"{server.url}/login")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()
    check(page, "forgot")
    page.get_by_label("Username").fill(login.username)
    page.get_by_label("Recovery key").fill("ag_rec_not-the-key")
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Reset password").click()
    expect(page.get_by_role("alert")).to_have_text("Invalid username or recovery key.")

    page.get_by_label("Recovery key").fill(key)
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Reset password").click()
    expect(page.get_by_role("heading", name="Password changed")).to_be_visible()
    check(page, "forgot-done")
    page.get_by_role("link", name="Sign in").click()
    fill_sign_in(page, login.username, NEW_PASSWORD)
    expect(page.get_by_role("heading", name="Profile")).to_be_visible()


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example"]
)
def test_next_never_leaves_the_site(
    contexts: Callable[..., BrowserContext],
    server: LiveServer,
    actions: Actions,
    target: str,
) -> None:
    name = actions.user().username
    page = contexts().new_page()
    page.goto(f"{server.url}/login?next={target}")
    fill_sign_in(page, name)
    page.wait_for_url(f"{server.url}/settings/profile")


def test_a_sign_in_without_next_lands_on_settings(
    page: Page, server: LiveServer, actions: Actions
) -> None:
    """Sessions and authorized apps are one click away from where a sign-in
    lands."""
    name = actions.user().username
    page.goto(f"{server.url}/login")
    fill_sign_in(page, name)
    page.wait_for_url(f"{server.url}/settings/profile")
    settings = page.get_by_role("navigation", name="Settings")
    settings.get_by_role("link", name="Authorized apps").click()
    expect(page.get_by_role("heading", name="Authorized apps")).to_be_visible()
    check(page, "landing-apps")
    page.get_by_role("navigation", name="Settings").get_by_role(
        "link", name="Sessions"
    ).click()
    expect(page.get_by_role("heading", name="Sessions")).to_be_visible()


def test_next_leads_back_to_the_page_asked_for(
    contexts: Callable[..., BrowserContext], server: LiveServer, actions: Actions
) -> None:
    name = actions.user().username
    page = contexts().new_page()
    page.goto(f"{server.url}/settings/tokens")
    page.wait_for_url(f"{server.url}/login?next=%2Fsettings%2Ftokens")
    fill_sign_in(page, name)
    page.wait_for_url(f"{server.url}/settings/tokens")


def test_sign_out(page: Page, server: LiveServer, actions: Actions) -> None:
    name = actions.user().username
    page.goto(f"{server.url}/login?next=/settings/profile")
    fill_sign_in(page, name)
    page.wait_for_url(f"{server.url}/settings/profile")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{server.url}/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert "ag_session" not in {c["name"] for c in page.context.cookies()}
    page.goto(f"{server.url}/settings/profile")
    page.wait_for_url(f"{server.url}/login?next=%2Fsettings%2Fprofile")


def test_the_sign_in_pages_fit_a_phone(
    contexts: Callable[..., BrowserContext], server: LiveServer
) -> None:
    page = contexts(viewport={"width": 375, "height": 740}).new_page()
    for path in ("/login", "/register", "/forgot"):
        page.goto(f"{server.url}{path}")
        assert page.evaluate(
            "document.documentElement.scrollWidth <= window.innerWidth"
        ), path
        check_accessibility(page)
