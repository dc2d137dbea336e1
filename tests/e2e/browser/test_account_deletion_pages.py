"""Deleting an account in a real browser (Debian's headless Chromium): an
administrator on the console, and a person on their profile page; each
checked by what it does outside the page (sign-ins refused, the session
gone, the audit log naming a deleted user)."""

import json
from collections.abc import Callable, Iterator

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.support.actions import PASSWORD, Actions
from tests.support.browser import MARKS, check_page, sign_in
from tests.support.live import LiveServer

pytestmark = MARKS


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as found:
        yield found


def signed_in_as(page: Page, server: LiveServer) -> str | None:
    """Whom the browser's session cookie stands for, by ``/api/v1/me``."""
    page.goto(f"{server.url}/api/v1/me")
    body: dict[str, str | None] = json.loads(page.locator("body").inner_text())
    return body.get("username")


def login_status(http: httpx.Client, username: str) -> int:
    response = http.post(
        "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
    )
    return response.status_code


def test_an_admin_deletes_an_account_on_the_console(
    server: LiveServer,
    actions: Actions,
    page: Page,
    contexts: Callable[..., BrowserContext],
    http: httpx.Client,
) -> None:
    bob = actions.user()
    bob_id = http.get("/api/v1/me", headers=bob.bearer).json()["id"]
    http.cookies.clear()
    theirs = contexts().new_page()
    sign_in(theirs, server, bob.username, "/api/v1/me")
    assert signed_in_as(theirs, server) == bob.username

    sign_in(page, server, actions.admin().username, f"/admin/users/{bob_id}")
    confirm = page.get_by_label(f"Type {bob.username} to confirm")
    confirm.fill("someone-else")
    page.get_by_role("button", name="Delete account").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Type the account's username to confirm"
    )
    assert login_status(http, bob.username) == 200  # nothing happened

    page.get_by_label(f"Type {bob.username} to confirm").fill(bob.username)
    page.get_by_role("button", name="Delete account").click()
    page.wait_for_url(f"{server.url}/admin/users?done=deleted")
    expect(page.get_by_role("status")).to_contain_text("The account was deleted")
    expect(page.get_by_role("link", name=bob.username)).to_have_count(0)
    check_page(page, "admin-user-deleted")

    # Their browser's session is over, and they cannot sign in again.
    assert signed_in_as(theirs, server) is None
    assert login_status(http, bob.username) == 401

    # The audit log keeps their entries, naming them a deleted user.
    page.goto(f"{server.url}/admin/audit?user={bob_id}")
    deleted = f"deleted user ({bob_id})"
    rows = page.get_by_role("row").filter(has_text="Account deleted")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(deleted)
    expect(page.get_by_role("row").filter(has_text="Account created")).to_contain_text(
        deleted
    )


def test_a_person_deletes_their_own_account_on_the_profile_page(
    server: LiveServer, actions: Actions, page: Page, http: httpx.Client
) -> None:
    alice = actions.user()
    http.cookies.clear()
    sign_in(page, server, alice.username, "/settings/profile")
    expect(page.get_by_role("link", name="Download your data")).to_have_attribute(
        "href", "/api/v1/me/export"
    )
    page.get_by_label("Your password").fill("not the password")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_role("alert")).to_contain_text("The current password is wrong.")
    check_page(page, "settings-profile-delete-refused")
    assert login_status(http, alice.username) == 200

    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account").click()
    page.wait_for_url(f"{server.url}/login")
    assert login_status(http, alice.username) == 401
    assert signed_in_as(page, server) is None
