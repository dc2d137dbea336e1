"""Upstream sign-in in a real browser (Debian's headless Chromium), against two
real OpenID providers on loopback:

- ``oidc-provider-mock`` (its own process, see tests/support/upstream.py);
- a second Authgate acting as the upstream issuer: its discovery document,
  its ``/login`` and consent pages, its ID tokens and its JWKS.

From the "Sign in with …" button on ``/login`` to the page the person asked
for: just-in-time accounts, linking only on a verified address, the allowlist's
refusal page, the state cookie tampered with or replayed, a wrong nonce, an
expired ID token, and the issuer rotating its keys between two sign-ins.
"""

import json
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from authgate.app import KEY_RETENTION_MARGIN, create_app
from authgate.domain import signing_keys
from authgate.domain.context import NO_PEER
from tests.conftest import MakeSettings
from tests.support import db, mailbox
from tests.support.actions import Actions, random_email, random_name
from tests.support.browser import MARKS, fill_sign_in, settable
from tests.support.live import LiveServer
from tests.support.upstream import MockIssuer, mock_issuer, oidc_settings, query

pytestmark = MARKS


@pytest.fixture(scope="module")
def issuer() -> Iterator[MockIssuer]:
    with mock_issuer() as found:
        yield found


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


def account(page: Page) -> dict[str, Any]:
    """``/api/v1/me`` as the browser sees it (Chromium shows JSON as text)."""
    assert page.url.endswith("/api/v1/me"), page.url
    return dict(json.loads(page.locator("body").inner_text()))


def me_as(page: Page, server: LiveServer) -> dict[str, Any]:
    page.goto(f"{server.url}/api/v1/me")
    return account(page)


# -- against oidc-provider-mock


def mock_person(issuer: MockIssuer, *, verified: bool = True, **claims: Any) -> str:
    sub = random_name("sub")
    issuer.set_user(
        sub, **{"email": random_email(), "email_verified": verified, **claims}
    )
    return sub


def to_mock(page: Page, server: LiveServer, issuer: MockIssuer) -> None:
    """From Authgate's sign-in page to the issuer's, by the provider button."""
    page.goto(f"{server.url}/login?next=/api/v1/me")
    page.get_by_role("link", name="Sign in with Mock issuer").click()
    page.wait_for_url(f"{issuer.url}/oauth2/authorize?**")


def authorize_at_mock(page: Page, sub: str) -> None:
    page.get_by_placeholder("sub").fill(sub)
    page.get_by_role("button", name="Authorize").click()


def sign_in_at_mock(
    page: Page, server: LiveServer, issuer: MockIssuer, sub: str
) -> None:
    to_mock(page, server, issuer)
    authorize_at_mock(page, sub)


def expect_refused(page: Page, reason: str) -> None:
    expect(page.get_by_role("heading", name="Sign-in refused")).to_be_visible()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.locator("code")).to_have_text(reason)
    expect(page.get_by_role("link", name="Back to sign in")).to_be_visible()


@pytest.fixture
def downstream(
    start_server: Callable[..., LiveServer], issuer: MockIssuer
) -> Callable[..., LiveServer]:
    def start(**overrides: Any) -> LiveServer:
        return start_server(
            **oidc_settings(issuer.url, oidc_display_name="Mock issuer"), **overrides
        )

    return start


def test_sign_in_makes_the_account_just_in_time(
    downstream: Callable[..., LiveServer], issuer: MockIssuer, page: Page
) -> None:
    server = downstream()
    sub = mock_person(issuer, preferred_username="Marie.Curie")
    sign_in_at_mock(page, server, issuer, sub)
    page.wait_for_url(f"{server.url}/api/v1/me")
    me = account(page)
    assert me["username"] == "marie.curie"
    assert me["is_admin"] is True
    assert me["auth"]["kind"] == "session"

    # Signed in: /login now says so.
    page.goto(f"{server.url}/login")
    expect(page.get_by_role("heading", name="Signed in")).to_be_visible()
    expect(page.get_by_role("main").get_by_text("marie.curie")).to_be_visible()


def test_a_verified_email_links_the_existing_account(
    downstream: Callable[..., LiveServer],
    issuer: MockIssuer,
    page: Page,
    http: httpx.Client,
) -> None:
    server = downstream(allow_registration=True)
    email = random_email()
    name = random_name()
    actions = Actions(http)
    http.base_url = server.url
    assert actions.register(name, email=email).status_code == 201
    mailbox.verify(server, http, email)
    sign_in_at_mock(page, server, issuer, mock_person(issuer, email=email))
    page.wait_for_url(f"{server.url}/api/v1/me")
    assert account(page)["username"] == name


def test_an_unverified_email_is_not_linked(
    downstream: Callable[..., LiveServer],
    issuer: MockIssuer,
    page: Page,
    http: httpx.Client,
) -> None:
    server = downstream(allow_registration=True)
    email = random_email()
    http.base_url = server.url
    assert Actions(http).register(random_name(), email=email).status_code == 201
    sub = mock_person(issuer, email=email, verified=False)
    sign_in_at_mock(page, server, issuer, sub)
    expect_refused(page, "email_unverified")
    expect(page.get_by_role("alert")).to_contain_text("not linked")
    assert me_as(page, server)["error"] == "unauthenticated"


def test_the_allowlist_shows_a_refusal_page(
    downstream: Callable[..., LiveServer], issuer: MockIssuer, page: Page
) -> None:
    server = downstream(signin_allowed_emails="@allowed.example")
    sub = mock_person(issuer, email="intruder@elsewhere.example")
    sign_in_at_mock(page, server, issuer, sub)
    expect_refused(page, "email_not_allowed")
    expect(page.get_by_role("alert")).to_contain_text(
        "intruder@elsewhere.example is not allowed to sign in here."
    )


def test_a_tampered_state_cookie_is_refused(
    downstream: Callable[..., LiveServer],
    issuer: MockIssuer,
    page: Page,
    context: BrowserContext,
) -> None:
    server = downstream()
    to_mock(page, server, issuer)
    [cookie] = [c for c in context.cookies() if c["name"] == "ag_upstream"]
    value = cookie["value"]
    cookie["value"] = value[:-4] + ("AAAA" if not value.endswith("AAAA") else "BBBB")
    context.add_cookies(settable(cookie))
    authorize_at_mock(page, mock_person(issuer))
    expect_refused(page, "state_invalid")


def test_a_replayed_sign_in_is_refused(
    downstream: Callable[..., LiveServer],
    issuer: MockIssuer,
    page: Page,
    context: BrowserContext,
) -> None:
    server = downstream()
    to_mock(page, server, issuer)
    [sealed] = [c for c in context.cookies() if c["name"] == "ag_upstream"]
    with page.expect_request(f"{server.url}/auth/callback?**") as callback:
        authorize_at_mock(page, mock_person(issuer))
    page.wait_for_url(f"{server.url}/api/v1/me")
    assert "username" in account(page)

    # Played back: the same cookie, the same callback URL.
    context.add_cookies(settable(sealed))
    page.goto(callback.value.url)
    expect_refused(page, "state_replayed")


def test_a_wrong_nonce_is_refused(
    downstream: Callable[..., LiveServer], issuer: MockIssuer, page: Page
) -> None:
    server = downstream()
    to_mock(page, server, issuer)
    params = query(page.url)
    params["nonce"] = "a-nonce-authgate-never-sent"
    page.goto(f"{issuer.url}/oauth2/authorize?{urlencode(params)}")
    authorize_at_mock(page, mock_person(issuer))
    expect_refused(page, "nonce_mismatch")


def test_an_expired_id_token_is_refused(
    downstream: Callable[..., LiveServer], issuer: MockIssuer, page: Page
) -> None:
    from authgate.util import clock

    server = downstream()
    # The mock signs with the real time; to Authgate it is two hours later,
    # past the ID token's one-hour lifetime.
    clock.advance(2 * 3600)
    sign_in_at_mock(page, server, issuer, mock_person(issuer))
    expect_refused(page, "id_token_expired")


def test_sign_in_survives_the_issuers_key_rotation(
    downstream: Callable[..., LiveServer], issuer: MockIssuer, browser: Browser
) -> None:
    server = downstream()
    sub = mock_person(issuer)
    first = browser.new_context()
    try:
        page = first.new_page()
        sign_in_at_mock(page, server, issuer, sub)
        page.wait_for_url(f"{server.url}/api/v1/me")
        before = account(page)
    finally:
        first.close()

    issuer.rotate_keys()

    second = browser.new_context()
    try:
        page = second.new_page()
        sign_in_at_mock(page, server, issuer, sub)
        page.wait_for_url(f"{server.url}/api/v1/me")
        assert account(page)["id"] == before["id"]
    finally:
        second.close()


# -- against a second Authgate as the upstream issuer


class UpstreamAuthgate:
    """Another Authgate, known to the browser as ``http://localhost:PORT`` so
    its cookies are not the downstream's (``127.0.0.1``): cookies ignore
    ports, and both instances name theirs ``ag_session``."""

    def __init__(self, make_settings: Any, database: Path) -> None:
        self.database_url = f"sqlite+aiosqlite:///{database}"

        def make_app(url: str) -> Any:
            self.issuer = url.replace("127.0.0.1", "localhost")
            self.settings = make_settings(
                public_url=self.issuer,
                database_url=self.database_url,
                data_dir=database.parent / "upstream-data",
            )
            return create_app(self.settings, migrate=False)

        self.server = LiveServer(make_app).start()
        with httpx.Client(base_url=self.server.url, timeout=30) as http:
            actions = Actions(http)
            self.username = random_name("up")
            self.email = random_email()
            created = actions.register(self.username, email=self.email)
            assert created.status_code == 201, created.text
            mailbox.verify(self.server, http, self.email)
            admin = actions.login(self.username)
            client = http.post(
                "/api/v1/admin/clients",
                headers=admin.bearer,
                json={
                    "name": "Downstream Authgate",
                    # A loopback redirect URI matches on any port (RFC 8252).
                    "redirect_uris": ["http://127.0.0.1/auth/callback"],
                },
            )
            assert client.status_code == 201, client.text
            self.client_id = client.json()["client_id"]
            self.client_secret = client.json()["client_secret"]

    def settings_for_downstream(self) -> dict[str, Any]:
        return {
            "oidc_issuer_url": self.issuer,
            "oidc_client_id": self.client_id,
            "oidc_client_secret": self.client_secret,
            "oidc_display_name": "Upstream Authgate",
        }

    def jwks_kids(self) -> set[str]:
        discovery = f"{self.server.url}/.well-known/openid-configuration"
        jwks_uri = httpx.get(discovery, timeout=30).json()["jwks_uri"]
        local = jwks_uri.replace(self.issuer, self.server.url)
        return {k["kid"] for k in httpx.get(local, timeout=30).json()["keys"]}

    def rotate_keys(self) -> None:
        """``authgate admin rotate-keys``, then the running instance signs with
        the new keys (as it would after reloading its ring)."""
        services = self.server.app.state.services

        async def rotate(tx: Any) -> list[Any]:
            await signing_keys.rotate(
                tx, services.keys.cipher, actor_id=None, peer=NO_PEER
            )
            return list(await tx.signing_keys.all())

        # In a thread of its own: Playwright's sync API keeps an event loop
        # running in this one.
        with ThreadPoolExecutor(1) as pool:
            keys = pool.submit(db.run, self.database_url, rotate).result()
        services.keys.ring = signing_keys.KeyRing(
            keys,
            services.keys.cipher,
            self.settings.jwt_expiry + KEY_RETENTION_MARGIN,
        )

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture
def upstream_authgate(
    make_settings: MakeSettings, sqlite_template: Path, tmp_path: Path
) -> Iterator[UpstreamAuthgate]:
    database = tmp_path / "upstream" / "authgate.db"
    database.parent.mkdir()
    shutil.copy(sqlite_template, database)
    found = UpstreamAuthgate(make_settings, database)
    yield found
    found.stop()


def sign_in_at_authgate(page: Page, server: LiveServer, upstream: Any) -> None:
    """Through the upstream's own pages: its sign-in form, then its consent."""
    page.goto(f"{server.url}/login?next=/api/v1/me")
    page.get_by_role("link", name="Sign in with Upstream Authgate").click()
    page.wait_for_url(f"{upstream.issuer}/login?**")
    fill_sign_in(page, upstream.username)
    page.get_by_role("button", name="Approve").click()
    page.wait_for_url(f"{server.url}/api/v1/me")


def test_sign_in_through_another_authgate(
    start_server: Callable[..., LiveServer],
    upstream_authgate: UpstreamAuthgate,
    page: Page,
) -> None:
    discovery = httpx.get(
        f"{upstream_authgate.server.url}/.well-known/openid-configuration",
        timeout=30,
    ).json()
    assert discovery["issuer"] == upstream_authgate.issuer

    server = start_server(**upstream_authgate.settings_for_downstream())
    sign_in_at_authgate(page, server, upstream_authgate)
    me = account(page)
    assert me["username"] == upstream_authgate.username
    # The upstream Authgate verified the address (its link was followed), so
    # its ID token says so, and this one keeps it as verified.
    assert (me["email"], me["email_verified"]) == (upstream_authgate.email, True)


def test_another_authgate_rotating_its_keys(
    start_server: Callable[..., LiveServer],
    upstream_authgate: UpstreamAuthgate,
    page: Page,
    context: BrowserContext,
) -> None:
    server = start_server(**upstream_authgate.settings_for_downstream())
    sign_in_at_authgate(page, server, upstream_authgate)
    first = account(page)["id"]

    before = upstream_authgate.jwks_kids()
    upstream_authgate.rotate_keys()
    assert upstream_authgate.jwks_kids() - before  # new keys published

    # Signed out here, still signed in (and consent given) upstream: the next
    # sign-in goes straight through, with an ID token signed by a new key.
    context.clear_cookies(domain="127.0.0.1")
    page.goto(f"{server.url}/login?next=/api/v1/me")
    page.get_by_role("link", name="Sign in with Upstream Authgate").click()
    page.wait_for_url(f"{server.url}/api/v1/me")
    assert account(page)["id"] == first
