"""The OAuth pages in a real browser: the consent page of an authorization
request and the ``/device`` page of the device grant (RFC 8628), each checked
with axe and photographed like every other page."""

import base64
import hashlib
import secrets
from datetime import UTC, datetime
from urllib.parse import urlencode

import httpx
from playwright.sync_api import Page

from tests.support.actions import Actions
from tests.support.browser import MARKS, check_page, fill_sign_in, sign_in
from tests.support.live import LiveServer
from tests.support.oauth import loopback_receiver, query

pytestmark = MARKS


def assert_known_as(page: Page, known_as: str, *, verified: bool) -> None:
    """The page says how the server knows the client, and warns (as a note
    with its own heading) exactly when nobody it trusts vouches for it."""
    facts = page.locator("dl.asking")
    assert facts.get_by_text(known_as, exact=True).is_visible()
    warning = page.get_by_role("heading", name="Unverified application")
    assert warning.count() == (0 if verified else 1)
    if not verified:
        assert page.get_by_role("note").is_visible()


def authorize_path(client_id: str, redirect_uri: str, scope: str) -> str:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return "/oauth/authorize?" + urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": "xyz",
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        }
    )


def test_the_consent_page(page: Page, server: LiveServer, actions: Actions) -> None:
    user = actions.user()
    with loopback_receiver() as receiver:
        client = actions.make_client(
            name="Acme CLI", public=True, redirect_uris=[receiver.registered]
        )
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        authorize = "/oauth/authorize?" + urlencode(
            {
                "response_type": "code",
                "client_id": client["client_id"],
                "redirect_uri": receiver.redirect_uri,
                "scope": "read write",
                "state": "xyz",
                "code_challenge": challenge.rstrip(b"=").decode(),
                "code_challenge_method": "S256",
            }
        )
        page.goto(f"{server.url}/login?" + urlencode({"next": authorize}))
        fill_sign_in(page, user.username)
        page.get_by_role("button", name="Approve").wait_for()
        assert page.get_by_role("heading").first.inner_text().startswith("Allow Acme")
        assert_known_as(page, "created by an administrator", verified=True)
        assert page.get_by_text("It signs in with all your rights.").count() == 0
        check_page(page, "oauth-consent")
        page.get_by_role("button", name="Approve").click()
        page.wait_for_url(f"{receiver.redirect_uri}?*")
        returned = query(page.url)
    assert returned["state"] == "xyz"
    assert "code" in returned


def test_the_device_page(page: Page, server: LiveServer, actions: Actions) -> None:
    user = actions.user()
    client = actions.make_client(
        name="Build box", public=True, grant_types=["device_code"]
    )
    started = httpx.post(
        f"{server.url}/oauth/device_authorization",
        data={"client_id": client["client_id"], "scope": "read"},
    )
    assert started.status_code == 200, started.text
    grant = started.json()
    sign_in(page, server, user.username, "/device")
    check_page(page, "device-code")
    page.get_by_label("Code").fill(grant["user_code"])
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Approve").wait_for()
    check_page(page, "device-confirm")
    page.get_by_role("button", name="Approve").click()
    page.get_by_role("status").wait_for()
    check_page(page, "device-approved")
    token = httpx.post(
        f"{server.url}/oauth/token",
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "device_code": grant["device_code"],
            "client_id": client["client_id"],
        },
    )
    assert token.status_code == 200, token.text
    assert token.json()["token_type"].lower() == "bearer"


def test_a_dynamically_registered_client_is_unverified(
    page: Page, server: LiveServer, actions: Actions
) -> None:
    user = actions.user()
    with loopback_receiver() as receiver:
        registered = httpx.post(
            f"{server.url}/oauth/register",
            json={
                "client_name": "Authgate CLI",
                "redirect_uris": [receiver.registered],
            },
        )
        assert registered.status_code == 201, registered.text
        path = authorize_path(
            registered.json()["client_id"], receiver.redirect_uri, "read"
        )
        sign_in(page, server, user.username, path)
        page.get_by_role("button", name="Approve").wait_for()
        today = datetime.now(UTC).strftime("%Y-%m-%d")
        assert_known_as(
            page, f"registered dynamically from 127.0.0.1 on {today}", verified=False
        )
        check_page(page, "oauth-consent-unverified")


def test_the_cli_on_the_device_page(
    page: Page, server: LiveServer, actions: Actions
) -> None:
    """The built-in CLI is named as such, with no warning, and still needs the
    person's Approve."""
    user = actions.user()
    started = httpx.post(
        f"{server.url}/oauth/device_authorization",
        data={"client_id": "authgate-cli", "scope": "openid read write"},
    )
    assert started.status_code == 200, started.text
    sign_in(page, server, user.username, "/device")
    page.get_by_label("Code").fill(started.json()["user_code"])
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Approve").wait_for()
    assert (
        page.get_by_role("heading").first.inner_text().startswith("Allow Authgate CLI")
    )
    assert_known_as(page, "built in (Authgate CLI)", verified=True)
    assert page.get_by_text("It signs in with all your rights.").is_visible()
    check_page(page, "device-confirm-cli")


def test_a_dynamic_client_on_the_device_page(
    page: Page, server: LiveServer, actions: Actions
) -> None:
    user = actions.user()
    registered = httpx.post(
        f"{server.url}/oauth/register",
        json={
            "client_name": "Smart TV",
            "grant_types": ["urn:ietf:params:oauth:grant-type:device_code"],
        },
    )
    assert registered.status_code == 201, registered.text
    started = httpx.post(
        f"{server.url}/oauth/device_authorization",
        data={"client_id": registered.json()["client_id"], "scope": "read"},
    )
    assert started.status_code == 200, started.text
    sign_in(page, server, user.username, "/device")
    page.get_by_label("Code").fill(started.json()["user_code"])
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Approve").wait_for()
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert_known_as(
        page, f"registered dynamically from 127.0.0.1 on {today}", verified=False
    )
    check_page(page, "device-confirm-unverified")
