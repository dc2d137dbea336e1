"""Signing in on the way to an authorization: a browser that is not signed in
goes /oauth/authorize → /login → back to /oauth/authorize, and when the person
already approved the client the server answers that with a redirect straight
to the client. Browsers apply the login page's CSP ``form-action`` to every
redirect that follows its form, so that last hop must be allowed there too."""

import base64
import hashlib
import secrets
from collections.abc import Callable
from urllib.parse import urlencode

from playwright.sync_api import BrowserContext

from tests.support.actions import Actions
from tests.support.browser import MARKS, fill_sign_in
from tests.support.live import LiveServer
from tests.support.oauth import loopback_receiver, query

pytestmark = MARKS


def _authorization_url(server_url: str, client_id: str, redirect_uri: str) -> str:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return f"{server_url}/oauth/authorize?" + urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": "read",
            "state": secrets.token_urlsafe(16),
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        }
    )


def _sign_in(context: BrowserContext, url: str, username: str) -> str:
    """Open ``url`` signed out, sign in, approve if asked: the URL the browser
    ends on."""
    page = context.new_page()
    page.goto(url)
    fill_sign_in(page, username)
    page.wait_for_load_state()
    if page.get_by_role("button", name="Approve").count():
        page.get_by_role("button", name="Approve").click()
    page.wait_for_url("http://127.0.0.1:*/callback?*")
    return page.url


def test_a_remembered_consent_reaches_the_client_after_sign_in(
    contexts: Callable[..., BrowserContext], server: LiveServer, actions: Actions
) -> None:
    user = actions.user()
    with loopback_receiver() as receiver:
        client = actions.make_client(public=True, redirect_uris=[receiver.registered])
        url = _authorization_url(server.url, client["client_id"], receiver.redirect_uri)
        assert "code" in query(_sign_in(contexts(), url, user.username))
        # Signed out (a new browser), the consent is remembered: no page between
        # the login form and the client.
        landed = query(_sign_in(contexts(), url, user.username))
    assert "code" in landed
    assert receiver.received, "the client's listener was never reached"
