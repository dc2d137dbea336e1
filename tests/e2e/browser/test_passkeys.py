"""Passkeys in a real browser: Debian's Chromium with a DevTools virtual
authenticator (a platform authenticator that holds discoverable credentials
and verifies its user), driving ``passkeys.js`` for real. A person adds a
passkey in Settings (their first second factor: it comes with recovery
codes), signs out, and signs in again with it and no password; or with their
password, then the passkey as the second step on ``/login/mfa``. Every page
goes through axe.

The ceremonies' refusals are covered without a browser, with a software
authenticator: tests/integration/api/test_passkeys.py and
tests/integration/pages/test_passkey_pages.py."""

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.support.actions import Actions
from tests.support.browser import MARKS, check_page, fill_sign_in, sign_in
from tests.support.live import LiveServer
from tests.support.webauthn import SoftAuthenticator

pytestmark = MARKS


@pytest.fixture
def server(start_server: Callable[..., LiveServer]) -> LiveServer:
    """Reached as ``localhost``: an IP address cannot be a WebAuthn RP id."""
    return start_server(url_host="localhost")


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as http:
        yield http


def virtual_authenticator(context: BrowserContext, page: Page) -> Callable[[], Any]:
    """A platform authenticator for ``page``, as a phone or laptop has; gives
    a function listing the credentials it holds."""
    devtools = context.new_cdp_session(page)
    devtools.send("WebAuthn.enable")
    added = devtools.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )

    def held() -> Any:
        found = devtools.send(
            "WebAuthn.getCredentials", {"authenticatorId": added["authenticatorId"]}
        )
        return found["credentials"]

    return held


def test_add_a_passkey_then_sign_in_with_it_and_no_password(
    contexts: Callable[..., BrowserContext], server: LiveServer, actions: Actions
) -> None:
    alice = actions.user()
    context = contexts()
    page = context.new_page()
    held = virtual_authenticator(context, page)

    sign_in(page, server, alice.username, "/settings/security")
    page.get_by_role("link", name="Passkeys").click()
    expect(page.get_by_role("heading", name="Passkeys", level=1)).to_be_visible()
    expect(page.get_by_text("You have no passkeys yet.")).to_be_visible()
    expect(page.get_by_text("Adding a passkey needs JavaScript")).to_be_hidden()
    check_page(page, "settings-passkeys-empty")

    page.get_by_label("Name").fill("Test laptop")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("heading", name="Passkey added")).to_be_visible()
    assert len(page.locator("#recovery-codes").inner_text().split()) == 10
    check_page(page, "settings-passkeys-recovery-codes")
    page.get_by_role("link", name="Back to passkeys").click()
    expect(page.get_by_label("Name of passkey Test laptop")).to_have_value(
        "Test laptop"
    )
    expect(page.get_by_text("This device only")).to_be_visible()
    check_page(page, "settings-passkeys")

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(lambda url: "/login" in url or url.rstrip("/") == server.url)
    page.goto(f"{server.url}/login?next=/settings/passkeys")
    check_page(page, "login-passkey")
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_url(f"{server.url}/settings/passkeys")
    expect(page.get_by_text(f"Signed in as {alice.username}")).to_be_visible()
    expect(page.get_by_label("Name of passkey Test laptop")).to_be_visible()
    expect(page.get_by_role("row", name="Test laptop")).not_to_contain_text("Never")
    [credential] = held()
    assert credential["isResidentCredential"] is True
    assert credential["rpId"] == "localhost"


def test_without_javascript_passkeys_are_listed_renamed_and_removed(
    contexts: Callable[..., BrowserContext], server: LiveServer, actions: Actions
) -> None:
    alice = actions.user()
    started = actions.client.post(
        "/api/v1/me/passkeys/options", headers=alice.bearer
    ).json()
    added = actions.client.post(
        "/api/v1/me/passkeys",
        headers=alice.bearer,
        json={
            "ticket": started["ticket"],
            "credential": SoftAuthenticator().create(
                started["options"], origin=server.url
            ),
            "name": "Old phone",
        },
    )
    assert added.status_code == 201, added.text
    codes = added.json()["recovery_codes"]
    page = contexts(java_script_enabled=False).new_page()
    page.goto(f"{server.url}/login?next=/settings/passkeys")
    expect(page.get_by_role("button", name="Sign in with a passkey")).to_be_hidden()
    # The password, then (no script, so no passkey) a recovery code.
    fill_sign_in(page, alice.username)
    expect(page.get_by_role("button", name="Use a passkey")).to_be_hidden()
    expect(
        page.get_by_text("Signing in with a passkey needs JavaScript")
    ).to_be_visible()
    page.get_by_label("One of your recovery codes").fill(codes[0])
    page.get_by_role("button", name="Use a recovery code").click()
    page.wait_for_url(f"{server.url}/settings/passkeys")
    expect(page.get_by_text("Adding a passkey needs JavaScript")).to_be_visible()
    expect(page.get_by_role("button", name="Add a passkey")).to_be_hidden()

    page.get_by_label("Name of passkey Old phone").fill("Spare phone")
    page.get_by_role("button", name="Rename passkey Old phone").click()
    expect(page.get_by_label("Name of passkey Spare phone")).to_be_visible()
    page.get_by_role("button", name="Remove passkey Spare phone").click()
    expect(page.get_by_text("You have no passkeys yet.")).to_be_visible()


def test_a_password_then_a_passkey_as_the_second_step(
    contexts: Callable[..., BrowserContext], server: LiveServer, actions: Actions
) -> None:
    alice = actions.user()
    context = contexts()
    page = context.new_page()
    virtual_authenticator(context, page)
    sign_in(page, server, alice.username, "/settings/passkeys")
    page.get_by_label("Name").fill("Test laptop")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("heading", name="Passkey added")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{server.url}/login")

    page.goto(f"{server.url}/login?next=/settings/sessions")
    fill_sign_in(page, alice.username)
    expect(page.get_by_role("heading", name="Two-step sign-in")).to_be_visible()
    expect(
        page.get_by_text("Signing in with a passkey needs JavaScript")
    ).to_be_hidden()
    check_page(page, "login-mfa-passkey")
    page.get_by_role("button", name="Use a passkey").click()
    page.wait_for_url(f"{server.url}/settings/sessions")
    expect(page.get_by_text(f"Signed in as {alice.username}")).to_be_visible()
