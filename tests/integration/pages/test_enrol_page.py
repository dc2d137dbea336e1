"""``AUTHGATE_REQUIRE_MFA`` on the pages, over plain HTTP: ``/login`` with the
right password for an account without a factor shows an app to set up (no
script needed), its first code signs in and shows the recovery codes once,
then the person carries on where they were going (the browser suite drives
the same pages in Chromium)."""

from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.support.actions import PASSWORD, Actions
from tests.support.live import LiveServer
from tests.support.pages import (
    form_token,
    mfa_form,
    post,
    second_step,
    shown_codes,
    shown_secret,
)
from tests.support.totp import at_step_start, code

pytestmark = pytest.mark.e2e


@pytest.fixture
def server(start_server: Callable[..., LiveServer]) -> LiveServer:
    return start_server(require_mfa=True, allow_registration=True)


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


def person(http: httpx.Client) -> str:
    response = Actions(http).register()
    assert response.status_code == 201, response.text
    return str(response.json()["username"])


def password_step(http: httpx.Client, username: str, next_url: str) -> httpx.Response:
    token = form_token(http, f"/login?next={next_url}")
    page = post(
        http, "/login", token, username=username, password=PASSWORD, next=next_url
    )
    assert page.status_code == 200, page.text
    assert "Set up two-step sign-in" in page.text
    assert "ag_session" not in http.cookies
    return page


def test_setting_up_the_app_finishes_the_sign_in(http: httpx.Client) -> None:
    name = person(http)
    at_step_start()
    page = password_step(http, name, "/settings/sessions")
    assert "script-src 'none'" in page.headers["content-security-policy"]
    assert "<svg" in page.text  # the QR code, drawn on the server
    assert "otpauth://totp/" in page.text
    secret = shown_secret(page)
    form = mfa_form(page)
    assert form["next"] == "/settings/sessions"

    wrong = second_step(http, form, "000000" if code(secret) != "000000" else "1")
    assert wrong.status_code == 400
    assert "That code is not right" in wrong.text
    assert shown_secret(wrong) == secret  # the same app, after a typo
    assert "ag_session" not in http.cookies

    done = second_step(http, mfa_form(wrong), code(secret))
    assert done.status_code == 200, done.text
    assert "Two-step sign-in is on" in done.text
    assert len(shown_codes(done)) == 10
    assert 'href="/settings/sessions"' in done.text  # Continue, where it was going
    assert "script-src 'self'" in done.headers["content-security-policy"]
    assert http.get("/api/v1/me").json()["username"] == name

    # Signed in again later: an ordinary second step, no new app.
    with httpx.Client(base_url=str(http.base_url)) as later:
        token = form_token(later, "/login")
        page = post(later, "/login", token, username=name, password=PASSWORD)
        assert page.status_code == 200
        assert "Code from your authenticator app" in page.text
        assert "Set up two-step sign-in" not in page.text
        again = second_step(later, mfa_form(page), code(secret, 1))
        assert again.status_code == 303


def test_the_ticket_works_once(http: httpx.Client, server: LiveServer) -> None:
    name = person(http)
    at_step_start()
    page = password_step(http, name, "")
    secret, form = shown_secret(page), mfa_form(page)
    assert second_step(http, form, code(secret)).status_code == 200
    with server.client() as other:
        token = form_token(other, "/login")
        again = second_step(other, {**form, "csrf_token": token}, code(secret, 1))
        assert again.status_code == 401
        assert "Sign in again" in again.text
        assert "ag_session" not in other.cookies


def test_only_the_apps_code_is_taken(http: httpx.Client) -> None:
    name = person(http)
    page = password_step(http, name, "")
    form = mfa_form(page)
    refused = second_step(http, form, "ABCD-EFGH-JKLM", "recovery_code")
    assert refused.status_code == 400
    assert "method totp" in refused.text
    assert "ag_session" not in http.cookies


def test_the_form_needs_its_token(http: httpx.Client) -> None:
    name = person(http)
    at_step_start()
    page = password_step(http, name, "")
    secret, form = shown_secret(page), mfa_form(page)
    refused = second_step(http, {**form, "csrf_token": "x"}, code(secret))
    assert refused.status_code == 403
    assert "ag_session" not in http.cookies
