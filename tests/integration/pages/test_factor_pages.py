"""Two-step sign-in on the pages, over plain HTTP: setting up an app on
Settings → Security, then ``/login`` → ``/login/mfa`` with a code or a
recovery code (the browser suite drives the same pages in Chromium)."""

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from authgate.domain import factors
from authgate.util import clock, tokens
from tests.support import db
from tests.support.actions import PASSWORD, Actions, Login
from tests.support.live import LiveServer
from tests.support.oauth import hidden_fields
from tests.support.pages import (
    form_token,
    mfa_form,
    post,
    second_step,
    shown_codes,
    shown_secret,
    signed_in,
)
from tests.support.totp import at_step_start, code

pytestmark = pytest.mark.e2e

SECURITY = "/settings/security"


@pytest.fixture
def browser(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as http:
        yield http


def set_up_app(browser: httpx.Client, token: str) -> tuple[str, list[str]]:
    """Through the Settings page: the secret read from it, and the recovery
    codes it shows once."""
    at_step_start()
    begun = post(browser, f"{SECURITY}/totp", token)
    assert begun.status_code == 303
    page = browser.get(SECURITY)
    assert "<svg" in page.text  # the QR code, drawn on the server
    assert "otpauth://totp/" in page.text
    secret = shown_secret(page)
    wrong = post(browser, f"{SECURITY}/totp/confirm", token, code="000000")
    assert wrong.status_code == 400
    assert "That code is not right" in wrong.text
    assert secret in wrong.text  # still set up where the person left it
    done = post(browser, f"{SECURITY}/totp/confirm", token, code=code(secret, -1))
    assert done.status_code == 200, done.text
    assert "will not be shown again" in done.text
    codes = shown_codes(done)
    assert len(codes) == 10
    return secret, codes


def first_step(http: httpx.Client, login: Login, next_url: str = "") -> httpx.Response:
    token = form_token(http, f"/login?next={next_url}" if next_url else "/login")
    return post(
        http, "/login", token, username=login.username, password=PASSWORD, next=next_url
    )


@pytest.fixture
def enrolled(browser: httpx.Client, actions: Actions) -> tuple[Login, str, list[str]]:
    """A person with an app set up; their secret and recovery codes."""
    login = actions.user()
    secret, codes = set_up_app(browser, signed_in(actions, browser, login))
    return login, secret, codes


def test_setting_up_an_app_and_signing_in_with_it(
    server: LiveServer, enrolled: tuple[Login, str, list[str]]
) -> None:
    login, secret, _ = enrolled
    with server.client() as http:
        page = first_step(http, login, "/settings/sessions")
        assert page.status_code == 200
        assert "Two-step sign-in" in page.text
        assert "ag_session" not in http.cookies
        assert "script-src 'none'" in page.headers["content-security-policy"]
        form = mfa_form(page)
        assert form["next"] == "/settings/sessions"

        wrong = second_step(http, form, "000000")
        assert wrong.status_code == 401
        assert "That code is not right" in wrong.text
        # The same ticket takes the right code after a typo.
        done = second_step(http, mfa_form(wrong), code(secret))
        assert done.status_code == 303
        assert done.headers["location"] == "/settings/sessions"
        me = http.get("/api/v1/me").json()
        assert me["username"] == login.username
    # Finished: the ticket opens nothing again, even from another browser.
    with server.client() as other:
        token = form_token(other, "/login")
        again = second_step(other, {**form, "csrf_token": token}, code(secret, 1))
        assert again.status_code == 401
        assert "Sign in again" in again.text
        assert "ag_session" not in other.cookies


def test_a_recovery_code_signs_in_once(
    server: LiveServer, enrolled: tuple[Login, str, list[str]]
) -> None:
    login, _, codes = enrolled
    with server.client() as http:
        form = mfa_form(first_step(http, login))
        done = second_step(http, form, codes[0].upper(), "recovery_code")
        assert done.status_code == 303
        assert done.headers["location"] == "/settings"
    with server.client() as http:
        form = mfa_form(first_step(http, login))
        assert second_step(http, form, codes[0], "recovery_code").status_code == 401


def test_an_expired_or_forged_ticket_sends_the_person_back(
    server: LiveServer, enrolled: tuple[Login, str, list[str]]
) -> None:
    login, secret, _ = enrolled
    with server.client() as http:
        form = mfa_form(first_step(http, login, "/settings/apps"))
        clock.advance(5 * 60)
        late = second_step(http, form, code(secret))
        assert late.status_code == 401
        assert "This sign-in has expired" in late.text
        assert 'href="/login?next=%2Fsettings%2Fapps"' in late.text
        forged = second_step(http, {**form, "mfa_token": "forged"}, code(secret))
        assert forged.status_code == 401
        assert "ag_session" not in http.cookies


def test_the_second_step_needs_the_form_token(
    server: LiveServer, enrolled: tuple[Login, str, list[str]]
) -> None:
    login, secret, _ = enrolled
    with server.client() as http:
        form = mfa_form(first_step(http, login))
        refused = second_step(http, {**form, "csrf_token": "x"}, code(secret))
        assert refused.status_code == 403
        assert http.get("/login/mfa").headers["location"] == "/login"


def test_removing_the_app_and_new_codes(
    browser: httpx.Client, actions: Actions, server: LiveServer
) -> None:
    login = actions.user()
    token = signed_in(actions, browser, login)
    _, codes = set_up_app(browser, token)
    page = browser.get(SECURITY).text
    assert "<strong>10</strong> unused" in page
    new = post(browser, f"{SECURITY}/recovery-codes", token)
    assert new.status_code == 200
    assert codes[0] not in new.text
    assert post(browser, f"{SECURITY}/totp", token).status_code == 409
    assert post(browser, f"{SECURITY}/totp/remove", token).status_code == 303
    assert "Set up an authenticator app" in browser.get(SECURITY).text
    # One step again.
    with server.client() as http:
        assert first_step(http, login).status_code == 303


def test_a_step_up_ticket_finishes_only_in_its_own_session(
    server: LiveServer, actions: Actions, database_url: str
) -> None:
    """What the step-up page hands over (a ticket naming the session): the
    session is re-authenticated, not a new one opened, and only from that
    session's browser, never through the API."""
    login = actions.user()
    other = actions.login(login.username)  # another session of the person
    with server.client() as http:
        secret, _ = set_up_app(http, signed_in(actions, http, login))
    user_id = actions.client.get("/api/v1/me", headers=login.bearer).json()["id"]
    sessions = actions.client.get("/api/v1/sessions", headers=login.bearer).json()
    session_id = next(s["id"] for s in sessions["items"] if s["current"])
    services = server.app.state.services
    ticket = factors.ticket(
        services.factor_keys.tickets, user_id, ("pwd",), session_id=session_id
    )

    api = actions.client.post(
        "/api/v1/auth/login/mfa",
        json={"mfa_token": ticket, "method": "totp", "code": code(secret)},
    )
    assert api.status_code == 401
    assert api.json()["error"] == "invalid_mfa_token"

    def from_browser(cookies: httpx.Cookies) -> httpx.Response:
        with server.client() as http:
            token = form_token(http, "/login")
            http.cookies.update(cookies)
            form = {"csrf_token": token, "mfa_token": ticket, "next": "/settings"}
            return second_step(http, form, code(secret))

    elsewhere = from_browser(other.cookies)
    assert elsewhere.status_code == 401
    assert "Sign in again" in elsewhere.text
    # The code was not spent on the refusals: the session's own browser uses it.
    done = from_browser(login.cookies)
    assert done.status_code == 303
    assert "ag_session" not in done.cookies  # the same session, no new one

    async def amr(tx: Any) -> tuple[str, ...]:
        found = await tx.sessions.get(session_id)
        return tuple(found.amr)

    assert db.run(database_url, amr) == ("mfa", "otp", "pwd")


def test_on_the_way_to_a_client_the_second_step_may_end_at_it(
    server: LiveServer, actions: Actions, enrolled: tuple[Login, str, list[str]]
) -> None:
    """The CLI's browser login and any app's sign-in pass here on the way to
    ``/oauth/authorize``, which may answer with a redirect to the client: its
    origin is in the form's CSP, and the sign-in carries on there."""
    login, secret, _ = enrolled
    client = actions.make_client(
        public=True, redirect_uris=["https://app.example.com/callback"]
    )
    request = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": "https://app.example.com/callback",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    authorize = "/oauth/authorize?" + urlencode(request)
    with server.client() as http:
        page = first_step(http, login, authorize)
        assert page.status_code == 200
        csp = page.headers["content-security-policy"]
        assert "form-action 'self' https://app.example.com" in csp
        done = second_step(http, mfa_form(page), code(secret))
        assert done.status_code == 303
        assert done.headers["location"] == authorize


def test_a_step_up_asks_for_the_second_factor_too(
    server: LiveServer, actions: Actions, database_url: str
) -> None:
    """A stale session of a person with a factor: ``/reauth`` takes the
    password, then hands over to the second step, which re-authenticates the
    same session at ``aal2`` and carries on to the page."""
    login = actions.user()
    with server.client() as http:
        token = signed_in(actions, http, login)
        secret, _ = set_up_app(http, token)
        clock.advance(10 * 60 + 1)
        stale = post(http, f"{SECURITY}/recovery-codes", token)
        assert stale.status_code == 303
        location = stale.headers["location"]
        assert location.startswith("/reauth?")
        page = http.get(location)
        fields = dict(hidden_fields(page.text))
        handed = post(
            http, "/reauth", fields.pop("csrf_token"), **fields, password=PASSWORD
        )
        assert handed.status_code == 200, handed.text
        assert "Two-step sign-in" in handed.text
        assert "ag_session" not in handed.cookies  # no new session yet
        done = second_step(http, mfa_form(handed), code(secret, 1))
        assert done.status_code == 303
        assert done.headers["location"] == fields["next"]
        again = post(http, f"{SECURITY}/recovery-codes", token)
        assert again.status_code == 200, again.text
        assert "will not be shown again" in again.text
        cookie = http.cookies["ag_session"]

    async def amr(tx: Any) -> tuple[str, ...]:
        found = await tx.sessions.by_token_hash(tokens.digest(cookie))
        return tuple(found.amr)

    assert db.run(database_url, amr) == ("mfa", "otp", "pwd")
