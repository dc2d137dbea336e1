"""The OAuth pages in a real browser: the consent page of an authorization
request and the ``/device`` page of the device grant (RFC 8628), each checked
with axe and photographed like every other page."""

import base64
import hashlib
import secrets
from urllib.parse import urlencode

import httpx

from tests.support.actions import Actions
from tests.support.browser import MARKS, check_page, fill_sign_in, sign_in
from tests.support.oauth import loopback_receiver, query

pytestmark = MARKS


def test_the_consent_page(page, server, actions: Actions):
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
        check_page(page, "oauth-consent")
        page.get_by_role("button", name="Approve").click()
        page.wait_for_url(f"{receiver.redirect_uri}?*")
        returned = query(page.url)
    assert returned["state"] == "xyz"
    assert "code" in returned


def test_the_device_page(page, server, actions: Actions):
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
