"""Upstream sign-ins and a local second factor: a provider that says it did
MFA (its ID token's ``amr``) is trusted for it; otherwise the person goes
through ``/login/mfa`` before the session opens."""

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.support import db
from tests.support.actions import random_email, random_name
from tests.support.live import LiveServer
from tests.support.pages import (
    CSRF,
    MFA_TOKEN,
    mfa_form,
    post,
    second_step,
    shown_codes,
    shown_secret,
)
from tests.support.totp import at_step_start, code
from tests.support.upstream import MockIssuer, SignIn, mock_issuer, oidc_settings

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def issuer() -> Iterator[MockIssuer]:
    with mock_issuer() as found:
        yield found


@pytest.fixture
def server(start_server: Callable[..., LiveServer], issuer: MockIssuer) -> LiveServer:
    return start_server(**oidc_settings(issuer.url))


def sign_in(
    server: LiveServer, sub: str, next_url: str
) -> tuple[httpx.Response, httpx.Client]:
    http = server.client()
    flow = SignIn(http)
    flow.start(next=next_url)
    flow.approve_at_mock(sub)
    return flow.finish(), http


def with_app(server: LiveServer, issuer: MockIssuer) -> tuple[str, str]:
    """A person signed up through the issuer who then set up an app; their
    subject and the app's secret."""
    sub = random_name("sub")
    issuer.set_user(sub, email=random_email(), email_verified=True)
    first, http = sign_in(server, sub, "/settings")
    assert first.status_code == 303, first.text
    token = http.cookies["ag_csrf"]
    at_step_start()
    assert post(http, "/settings/security/totp", token).status_code == 303
    secret = shown_secret(http.get("/settings/security"))
    done = post(http, "/settings/security/totp/confirm", token, code=code(secret, -1))
    assert done.status_code == 200, done.text
    http.close()
    return sub, secret


def session_amr(database_url: str, user_id: str) -> list[tuple[str, ...]]:
    async def use(tx: Any) -> list[tuple[str, ...]]:
        return [s.amr for s in await tx.sessions.list_for_user(user_id)]

    return db.run(database_url, use)


def test_without_upstream_mfa_the_local_factor_is_asked(
    server: LiveServer, issuer: MockIssuer, database_url: str
) -> None:
    sub, secret = with_app(server, issuer)
    issuer.set_user(sub, email=random_email(), email_verified=True, amr=["pwd"])
    page, http = sign_in(server, sub, "/settings/apps")
    assert page.status_code == 200, page.text
    assert "Two-step sign-in" in page.text
    assert "ag_session" not in http.cookies
    token, ticket = CSRF.search(page.text), MFA_TOKEN.search(page.text)
    assert token
    assert ticket
    done = post(
        http,
        "/login/mfa",
        token[1],
        mfa_token=ticket[1],
        method="totp",
        code=code(secret),
        next="/settings/apps",
    )
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/settings/apps"
    me = http.get("/api/v1/me").json()
    assert ("mfa", "otp", "pwd") in session_amr(database_url, me["id"])


def test_an_upstream_that_did_mfa_is_trusted_for_it(
    server: LiveServer, issuer: MockIssuer, database_url: str
) -> None:
    sub, _ = with_app(server, issuer)
    issuer.set_user(
        sub, email=random_email(), email_verified=True, amr=["pwd", "otp", "mfa"]
    )
    response, http = sign_in(server, sub, "/settings/apps")
    assert response.status_code == 303, response.text
    assert "ag_session" in http.cookies
    me = http.get("/api/v1/me").json()
    assert ("mfa", "otp", "pwd") in session_amr(database_url, me["id"])


def test_no_factor_no_second_step_and_the_upstream_amr_is_kept(
    server: LiveServer, issuer: MockIssuer, database_url: str
) -> None:
    sub = random_name("sub")
    issuer.set_user(sub, email=random_email(), email_verified=True, amr=["pwd", 7])
    response, http = sign_in(server, sub, "/settings")
    assert response.status_code == 303, response.text
    me = http.get("/api/v1/me").json()
    assert session_amr(database_url, me["id"]) == [("pwd",)]


def test_where_a_factor_is_required_one_without_sets_an_app_up(
    start_server: Callable[..., LiveServer], issuer: MockIssuer, database_url: str
) -> None:
    server = start_server(require_mfa=True, **oidc_settings(issuer.url))
    sub = random_name("sub")
    issuer.set_user(sub, email=random_email(), email_verified=True, amr=["pwd"])
    page, http = sign_in(server, sub, "/settings/apps")
    assert page.status_code == 200, page.text
    assert "Set up two-step sign-in" in page.text
    assert "ag_session" not in http.cookies
    at_step_start()
    done = second_step(http, mfa_form(page), code(shown_secret(page)))
    assert done.status_code == 200, done.text
    assert len(shown_codes(done)) == 10
    me = http.get("/api/v1/me").json()
    assert session_amr(database_url, me["id"]) == [("mfa", "otp", "pwd")]


def test_where_a_factor_is_required_the_upstreams_mfa_counts(
    start_server: Callable[..., LiveServer], issuer: MockIssuer, database_url: str
) -> None:
    server = start_server(require_mfa=True, **oidc_settings(issuer.url))
    sub = random_name("sub")
    issuer.set_user(
        sub, email=random_email(), email_verified=True, amr=["pwd", "otp", "mfa"]
    )
    response, http = sign_in(server, sub, "/settings/apps")
    assert response.status_code == 303, response.text
    me = http.get("/api/v1/me").json()
    assert session_amr(database_url, me["id"]) == [("mfa", "otp", "pwd")]
