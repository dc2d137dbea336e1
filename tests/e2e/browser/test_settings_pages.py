"""Settings in a real browser (Debian's headless Chromium): a token made on
the page and used with httpx, then revoked through the confirmation page; a
session revoked from another browser, and a password change, each signing
that browser out on its next click; API keys, the recovery key and the
profile; an OAuth app's login listed among sessions and its access withdrawn
on Authorized apps; the pages on a phone. Token creation and withdrawing an
app run with JavaScript off too.
Every page goes through axe and, on demand, a screenshot.

Each form's CSRF refusal and the rules in detail are covered cheaper without
a browser in tests/integration/pages/test_settings_forms.py.
"""

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from playwright.sync_api import BrowserContext, Page, expect

from authgate.util import clock
from tests.support import mailbox
from tests.support.actions import PASSWORD, Actions
from tests.support.browser import (
    MARKS,
    check_accessibility,
    check_page,
    open_signed_in,
    screenshot,
)
from tests.support.live import LiveServer
from tests.support.oauth import Browser, discover, loopback_receiver, oauth_client

pytestmark = MARKS

NEW_PASSWORD = "a brand new passphrase for tests"
SECTIONS = [
    ("Profile", "/settings/profile"),
    ("Sessions", "/settings/sessions"),
    ("Authorized apps", "/settings/apps"),
    ("Access tokens", "/settings/tokens"),
    ("API keys", "/settings/keys"),
    ("Security", "/settings/security"),
]


def me(server: LiveServer, secret: str) -> httpx.Response:
    return httpx.get(
        f"{server.url}/api/v1/me", headers=Actions.bearer(secret), timeout=30
    )


def create_token(page: Page, name: str) -> str:
    """Fill the new-token form (read only, 7 days); the secret shown once."""
    page.get_by_label("Name").fill(name)
    page.get_by_label("Expires in (days)").fill("7")
    page.get_by_label("write: change your data").uncheck()
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("heading", name="Token created")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("it will not be shown again")
    return page.locator("#secret").inner_text().strip()


def test_a_token_made_used_and_revoked(
    contexts: Callable[..., BrowserContext], server: LiveServer, actions: Actions
) -> None:
    login = actions.user()
    page = open_signed_in(contexts, server, login.username, "/settings/tokens")
    expect(page.get_by_role("link", name="Access tokens")).to_have_attribute(
        "aria-current", "page"
    )
    check_page(page, "settings-tokens-empty")

    secret = create_token(page, "CI deploys")
    expect(page.get_by_role("button", name="Copy")).to_be_visible()
    check_page(page, "settings-token-created")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_text("Copied to the clipboard.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == secret

    answer = me(server, secret)
    assert answer.status_code == 200
    assert answer.json()["username"] == login.username
    assert answer.json()["auth"]["kind"] == "pat"

    page.get_by_role("link", name="Back to access tokens").click()
    row = page.locator("tbody tr", has_text="CI deploys")
    expect(row).to_contain_text("read")
    expect(row).not_to_contain_text(secret)
    check_page(page, "settings-tokens")
    row.get_by_role("link", name="Revoke CI deploys").click()
    expect(page.get_by_role("heading", name="Revoke access token")).to_be_visible()
    check_page(page, "settings-token-revoke")
    # Cancel changes nothing; the token still works.
    page.get_by_role("link", name="Cancel").click()
    assert me(server, secret).status_code == 200
    row.get_by_role("link", name="Revoke CI deploys").click()
    page.get_by_role("button", name="Revoke").click()
    page.wait_for_url(f"{server.url}/settings/tokens")
    expect(page.get_by_text("You have no access tokens yet.")).to_be_visible()
    refused = me(server, secret)
    assert refused.status_code == 401
    assert refused.json()["error_description"] == "The token has been revoked."


def test_a_token_made_without_javascript(
    contexts: Callable[..., BrowserContext], server: LiveServer, actions: Actions
) -> None:
    login = actions.user()
    page = open_signed_in(
        contexts, server, login.username, "/settings/tokens", java_script_enabled=False
    )
    secret = create_token(page, "no script")
    # No script, no copy button: the value is there to select by hand.
    expect(page.get_by_role("button", name="Copy")).to_be_hidden()
    screenshot(page, "settings-token-created-no-js")
    assert me(server, secret).status_code == 200
    page.get_by_role("link", name="Back to access tokens").click()
    page.get_by_role("link", name="Revoke no script").click()
    page.get_by_role("button", name="Revoke").click()
    page.wait_for_url(f"{server.url}/settings/tokens")
    assert me(server, secret).status_code == 401


def test_a_session_revoked_elsewhere_ends_on_the_next_click(
    contexts: Callable[..., BrowserContext], server: LiveServer, actions: Actions
) -> None:
    login = actions.user()
    laptop = open_signed_in(contexts, server, login.username, "/settings/sessions")
    phone = open_signed_in(
        contexts,
        server,
        login.username,
        "/settings/profile",
        user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) "
        "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 "
        "Safari/604.1",
    )
    laptop.reload()
    rows = laptop.locator("tbody tr")
    # Both browsers, and the API sign-in that made the account.
    expect(rows).to_have_count(3)
    expect(rows.filter(has_text="(this device)")).to_have_count(1)
    check_page(laptop, "settings-sessions")
    rows.filter(has_text="Safari/iOS").get_by_role("button", name="Sign out").click()
    laptop.wait_for_url(f"{server.url}/settings/sessions")
    expect(laptop.locator("tbody tr")).to_have_count(2)
    expect(laptop.locator("tbody tr", has_text="Safari/iOS")).to_have_count(0)

    # The phone's next click lands on the sign-in page.
    phone.get_by_role("link", name="Sessions").click()
    phone.wait_for_url(f"{server.url}/login?next=%2Fsettings%2Fsessions")
    expect(phone.get_by_role("heading", name="Sign in")).to_be_visible()
    # The laptop is still in.
    laptop.get_by_role("link", name="Profile").click()
    laptop.wait_for_url(f"{server.url}/settings/profile")


def test_sign_out_all_other_sessions(
    contexts: Callable[..., BrowserContext], server: LiveServer, actions: Actions
) -> None:
    login = actions.user()
    here = open_signed_in(contexts, server, login.username, "/settings/sessions")
    others = [
        open_signed_in(contexts, server, login.username, "/settings/profile")
        for _ in range(2)
    ]
    here.reload()
    here.get_by_role("button", name="Sign out all other sessions").click()
    here.wait_for_url(f"{server.url}/settings/sessions")
    expect(here.locator("tbody tr")).to_have_count(1)
    for page in others:
        page.get_by_role("link", name="Security").click()
        page.wait_for_url(f"{server.url}/login?next=%2Fsettings%2Fsecurity")


def test_changing_the_password_signs_out_the_other_browsers(
    contexts: Callable[..., BrowserContext], server: LiveServer, actions: Actions
) -> None:
    login = actions.user()
    page = open_signed_in(contexts, server, login.username, "/settings/profile")
    other = open_signed_in(contexts, server, login.username, "/settings/profile")
    check_page(page, "settings-profile-form")
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm new password").fill("not the same")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("alert")).to_have_text("The new passwords do not match.")
    check_page(page, "settings-profile-error")

    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password is changed.")

    other.get_by_role("link", name="Access tokens").click()
    other.wait_for_url(f"{server.url}/login?next=%2Fsettings%2Ftokens")
    page.get_by_role("link", name="Sessions").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    actions.login(login.username, NEW_PASSWORD)


def test_email_address(
    contexts: Callable[..., BrowserContext], server: LiveServer, actions: Actions
) -> None:
    login = actions.user()
    page = open_signed_in(contexts, server, login.username, "/settings/profile")
    taken = actions.register(invite_code=actions.invite(), email="taken@example.org")
    assert taken.status_code == 201
    email = page.get_by_label("Email", exact=True)
    email.fill("Taken@example.org")
    page.get_by_role("button", name="Save email").click()
    expect(page.get_by_role("alert")).to_have_text(
        "That email address belongs to another account."
    )
    check_page(page, "settings-profile-email-error")
    mine = f"{login.username}@example.org"
    email.fill(mine)
    page.get_by_role("button", name="Save email").click()
    # A new address waits for the link mailed to it.
    expect(page.get_by_role("status")).to_contain_text("We sent a link")
    expect(email).to_have_value(mine)
    mailbox.verify(server, actions.client, mine)
    page.reload()
    expect(page.get_by_text("(verified)")).to_be_visible()
    email.fill("")
    page.get_by_role("button", name="Save email").click()
    expect(page.get_by_role("status")).to_have_text("Your email address is saved.")
    expect(email).to_have_value("")


def test_api_keys_for_oneself_and_an_organization(
    contexts: Callable[..., BrowserContext], server: LiveServer, actions: Actions
) -> None:
    login = actions.user()
    org = actions.make_org(login, "Acme Keys")
    page = open_signed_in(contexts, server, login.username, "/settings/keys")
    check_page(page, "settings-keys-empty")
    page.get_by_label("Name").fill("billing sync")
    page.get_by_label("Read and write").check()
    page.get_by_label("Organization").select_option(label="Acme Keys")
    page.get_by_role("button", name="Create API key").click()
    expect(page.get_by_role("heading", name="API key created")).to_be_visible()
    check_page(page, "settings-key-created")
    secret = page.locator("#secret").inner_text().strip()
    answer = httpx.get(
        f"{server.url}/api/v1/me", headers={"X-API-Key": secret}, timeout=30
    )
    assert answer.json()["org_id"] == org["id"]
    assert answer.json()["auth"]["kind"] == "api_key"

    page.get_by_role("link", name="Back to API keys").click()
    row = page.locator("tbody tr", has_text="billing sync")
    expect(row).to_contain_text("Read and write")
    expect(row).to_contain_text("Acme Keys")
    check_page(page, "settings-keys")
    row.get_by_role("link", name="Revoke billing sync").click()
    check_page(page, "settings-key-revoke")
    page.get_by_role("button", name="Revoke").click()
    page.wait_for_url(f"{server.url}/settings/keys")
    revoked = httpx.get(
        f"{server.url}/api/v1/me", headers={"X-API-Key": secret}, timeout=30
    )
    assert revoked.status_code == 401


def test_a_recovery_key_made_and_used(
    contexts: Callable[..., BrowserContext], server: LiveServer, actions: Actions
) -> None:
    login = actions.user()
    page = open_signed_in(contexts, server, login.username, "/settings/security")
    check_page(page, "settings-security")
    page.get_by_label("Current password").fill("not my password")
    page.get_by_role("button", name="Generate recovery key").click()
    expect(page.get_by_role("alert")).to_have_text("The current password is wrong.")
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_role("button", name="Generate recovery key").click()
    expect(page.get_by_role("heading", name="Recovery key created")).to_be_visible()
    check_page(page, "settings-recovery-key")
    key = page.locator("#secret").inner_text().strip()
    reset = httpx.post(
        f"{server.url}/api/v1/auth/recover",
        json={
            "username": login.username,
            "recovery_key": key,
            "new_password": NEW_PASSWORD,
        },
        timeout=30,
    )
    assert reset.status_code == 204
    # Every session ended with the reset, this browser's too.
    page.get_by_role("link", name="Back to security").click()
    page.wait_for_url(f"{server.url}/login?next=%2Fsettings%2Fsecurity")


def test_the_settings_pages_fit_a_phone(
    contexts: Callable[..., BrowserContext], server: LiveServer, actions: Actions
) -> None:
    login = actions.user()
    actions.make_pat(login)
    page = open_signed_in(
        contexts,
        server,
        login.username,
        "/settings/profile",
        viewport={"width": 375, "height": 740},
    )
    for label, path in SECTIONS:
        page.get_by_role("link", name=label, exact=True).click()
        page.wait_for_url(f"{server.url}{path}")
        expect(page.get_by_role("link", name=label, exact=True)).to_have_attribute(
            "aria-current", "page"
        )
        assert page.evaluate(
            "document.documentElement.scrollWidth <= window.innerWidth"
        ), path
        check_accessibility(page)


def test_an_idle_session_ends_and_an_active_one_slides(
    contexts: Callable[..., BrowserContext], start_server: Callable[..., LiveServer]
) -> None:
    server = start_server(session_idle_timeout="30m")
    with server.client() as http:
        login = Actions(http).user()
    page = open_signed_in(contexts, server, login.username, "/settings/profile")
    # Used every 20 minutes, the session outlives its 30-minute idle timeout.
    for _ in range(3):
        clock.advance(20 * 60)
        page.get_by_role("link", name="Sessions").click()
        page.wait_for_url(f"{server.url}/settings/sessions")
        page.get_by_role("link", name="Profile").click()
        page.wait_for_url(f"{server.url}/settings/profile")
    # Left alone past the timeout, the next click signs it out.
    clock.advance(31 * 60)
    page.get_by_role("link", name="Security").click()
    page.wait_for_url(f"{server.url}/login?next=%2Fsettings%2Fsecurity")


def test_a_token_made_with_the_keyboard_alone(
    contexts: Callable[..., BrowserContext], server: LiveServer, actions: Actions
) -> None:
    """Focus moves through the form in reading order; no mouse needed."""
    login = actions.user()
    page = open_signed_in(contexts, server, login.username, "/settings/tokens")
    page.get_by_label("Name").focus()
    page.keyboard.type("keyboard only")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Expires in (days)")).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type("5")
    page.keyboard.press("Tab")
    expect(page.get_by_label("read: read your data")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("write: change your data")).to_be_focused()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Create token")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Token created")).to_be_visible()
    page.get_by_role("link", name="Back to access tokens").click()
    row = page.locator("tbody tr", has_text="keyboard only")
    expect(row.locator("td[data-label=Scopes]")).to_have_text("read")


def oauth_login(server: LiveServer, actions: Actions, login: Any) -> dict[str, Any]:
    """An app the person approves (code flow through Authlib, consent pressed
    over HTTP): its registration, its Authlib client and its tokens."""
    meta = discover(server.url)
    with loopback_receiver() as receiver, Browser(server.url, login) as person:
        app = actions.make_client(
            public=True,
            redirect_uris=[receiver.registered],
            grant_types=["authorization_code", "refresh_token"],
        )
        client = oauth_client(
            meta, app["client_id"], redirect_uri=receiver.redirect_uri
        )
        verifier = generate_token(48)
        url, _state = client.create_authorization_url(
            meta["authorization_endpoint"], code_verifier=verifier, scope="read"
        )
        receiver.follow(person.authorize(url))
        token = client.fetch_token(
            authorization_response=receiver.received[-1], code_verifier=verifier
        )
    return {"app": app, "client": client, "token": token}


@pytest.mark.parametrize("script", [True, False], ids=["js", "no-js"])
def test_an_authorized_app_listed_and_withdrawn(
    contexts: Callable[..., BrowserContext],
    server: LiveServer,
    actions: Actions,
    script: bool,
) -> None:
    login = actions.user()
    granted = oauth_login(server, actions, login)
    name = granted["app"]["name"]
    page = open_signed_in(
        contexts,
        server,
        login.username,
        "/settings/sessions",
        java_script_enabled=script,
    )
    # The app's login is one of the person's sessions, by the client's name.
    expect(page.locator("tbody tr", has_text=name)).to_have_count(1)
    page.get_by_role("link", name="Authorized apps").click()
    page.wait_for_url(f"{server.url}/settings/apps")
    expect(page.get_by_role("link", name="Authorized apps")).to_have_attribute(
        "aria-current", "page"
    )
    row = page.locator("tbody tr", has_text=name)
    expect(row).to_contain_text("read")
    if script:
        check_page(page, "settings-apps")
    assert me(server, granted["token"]["access_token"]).status_code == 200

    row.get_by_role("button", name=f"Remove access for {name}").click()
    page.wait_for_url(f"{server.url}/settings/apps")
    expect(page.locator("tbody tr", has_text=name)).to_have_count(0)
    expect(page.get_by_text("No app has access to your account.")).to_be_visible()
    if script:
        check_page(page, "settings-apps-empty")
    # Its tokens are dead at once: the access token, and the refresh token.
    assert me(server, granted["token"]["access_token"]).status_code == 401
    with pytest.raises(OAuthError):
        granted["client"].refresh_token(refresh_token=granted["token"]["refresh_token"])
    granted["client"].close()
    page.get_by_role("link", name="Sessions").click()
    expect(page.locator("tbody tr", has_text=name)).to_have_count(0)
