"""The admin console in a real browser (Debian's headless Chromium), end to
end: every action an instance administrator takes there, checked by what it
does outside the console too (sign-ins, registrations with an invite, OAuth
tokens, the JWKS), and every page through axe and, on demand, a screenshot.

The refusals (origin, form token, the role re-read in the transaction, odd
input) are covered cheaper without a browser in
tests/integration/pages/test_admin_console.py.
"""

import json
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import TypeVar

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, ViewportSize, expect

from authgate.domain.audit import AuditEvent
from authgate.domain.users import User
from authgate.storage.db import Tx
from authgate.util import clock
from authgate.util.ids import new_id
from authgate.web.security import SESSION_COOKIE, csrf_token
from tests.support import db
from tests.support.actions import PASSWORD, Actions, random_email, random_name
from tests.support.browser import (
    MARKS,
    check_accessibility,
    check_page,
    fill_sign_in,
    sign_in,
)
from tests.support.live import LiveServer

pytestmark = MARKS

T = TypeVar("T")
NEW_PASSWORD = "a brand new passphrase"
PHONE: ViewportSize = {"width": 375, "height": 740}


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as found:
        yield found


def in_db(server: LiveServer, use: Callable[[Tx], Awaitable[T]]) -> T:
    """``use(tx)`` on the server's database, in a thread of its own: Playwright's
    sync API keeps an event loop running in this one."""
    url = server.app.state.services.settings.sqlalchemy_url
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(db.run, url, use).result()


def fits_a_phone(page: Page) -> bool:
    """Whether the page, as it is, reads on a phone without sideways scrolling."""
    before = page.viewport_size
    page.set_viewport_size(PHONE)
    try:
        return bool(
            page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        )
    finally:
        if before is not None:
            page.set_viewport_size(before)


def expect_done(page: Page, text: str) -> None:
    expect(page.get_by_role("status").filter(has_text=text)).to_be_visible()


def expect_alert(page: Page, text: str) -> None:
    expect(page.get_by_role("alert")).to_contain_text(text)


def signed_in_as(page: Page, server: LiveServer) -> str | None:
    """Whom the browser's session cookie stands for, by ``/api/v1/me``
    (Chromium shows the JSON as text)."""
    page.goto(f"{server.url}/api/v1/me")
    body: dict[str, str | None] = json.loads(page.locator("body").inner_text())
    return body.get("username")


def me(http: httpx.Client, token: str) -> httpx.Response:
    return http.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})


def login_status(http: httpx.Client, username: str, password: str = PASSWORD) -> int:
    response = http.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    )
    return response.status_code


@pytest.fixture
def admin(server: LiveServer, page: Page, actions: Actions) -> Page:
    """The instance's first account, signed in on the console's users page."""
    sign_in(page, server, actions.admin().username, "/admin/users")
    return page


def test_the_console_is_reached_from_the_header_and_navigated(
    server: LiveServer, actions: Actions, page: Page
) -> None:
    # Signed out, /admin (the users page) sends the visitor to sign in and back.
    page.goto(f"{server.url}/admin")
    page.wait_for_url(f"{server.url}/login?next=%2Fadmin%2Fusers")
    fill_sign_in(page, actions.admin().username)
    page.wait_for_url(f"{server.url}/admin/users")
    # The header's Admin link leads there too.
    page.get_by_role("navigation", name="Account").get_by_role(
        "link", name="Admin"
    ).click()
    page.wait_for_url(f"{server.url}/admin/users")
    nav = page.get_by_role("navigation", name="Admin")
    sections = {
        "Users": ("/admin/users", "Users", "admin-users"),
        "Invites": ("/admin/invites", "Invites", "admin-invites"),
        "Audit log": ("/admin/audit", "Audit log", "admin-audit"),
        "OAuth clients": ("/admin/clients", "OAuth clients", "admin-clients"),
        "Signing keys": ("/admin/keys", "Signing keys", "admin-keys"),
    }
    for link, (path, heading, shot) in sections.items():
        nav.get_by_role("link", name=link).click()
        page.wait_for_url(f"{server.url}{path}")
        expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()
        expect(nav.get_by_role("link", name=link)).to_have_attribute(
            "aria-current", "page"
        )
        assert nav.locator('[aria-current="page"]').count() == 1
        check_page(page, shot)

    # On a phone the navigation sits above the section and nothing scrolls
    # sideways; the keyboard reaches the search field and the button.
    page.set_viewport_size(PHONE)
    for path, _heading, _shot in sections.values():
        page.goto(f"{server.url}{path}")
        assert fits_a_phone(page), path
        page.set_viewport_size(PHONE)
        check_accessibility(page)
    page.goto(f"{server.url}/admin/users")
    page.get_by_label("Search by username or email").focus()
    page.keyboard.type(actions.admin().username)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.url}/admin/users?q=*")
    expect(page.get_by_role("link", name=actions.admin().username)).to_be_visible()


def test_search_and_pages_of_users(server: LiveServer, admin: Page) -> None:
    tag = new_id("t").lower()[-6:]
    names = sorted(f"member-{tag}-{n:02}" for n in range(30))

    async def add(tx: Tx) -> None:
        for name in names:
            await tx.users.add(
                User(
                    id=new_id("usr"),
                    username=name,
                    email=f"{name}@example.com",
                    is_admin=False,
                    password_hash=None,
                    created_at=clock.now(),
                )
            )

    in_db(server, add)
    admin.get_by_label("Search by username or email").fill(f"MEMBER-{tag}")
    admin.get_by_role("button", name="Search").click()
    rows = admin.get_by_role("row").filter(has=admin.get_by_role("link"))
    expect(rows).to_have_count(25)
    expect(rows.first).to_contain_text(names[0])
    check_page(admin, "admin-users-search")
    admin.get_by_role("link", name="Next page").click()
    expect(rows).to_have_count(5)
    expect(rows.last).to_contain_text(names[-1])
    expect(admin.get_by_role("link", name="Next page")).to_have_count(0)
    admin.get_by_role("link", name="First page").click()
    expect(rows).to_have_count(25)

    # By email, one match.
    admin.get_by_label("Search by username or email").fill(f"{names[7]}@example")
    admin.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(1)
    admin.get_by_label("Search by username or email").fill("nobody-matches-this")
    admin.get_by_role("button", name="Search").click()
    expect(admin.get_by_text("No user matches “nobody-matches-this”.")).to_be_visible()


def test_an_account_from_creation_to_disable_enable_and_new_password(
    server: LiveServer,
    admin: Page,
    contexts: Callable[..., BrowserContext],
    http: httpx.Client,
) -> None:
    name = random_name("made")
    admin.get_by_role("link", name="Create user").click()
    expect(admin.get_by_role("heading", name="Create user")).to_be_visible()
    # Refused inline, the form keeps what was typed (but not the password).
    admin.get_by_label("Username").fill(name)
    admin.get_by_label("Email (optional)").fill("not-an-address@x")
    admin.get_by_label("Password").fill(PASSWORD)
    admin.get_by_role("button", name="Create user").click()
    expect_alert(admin, "Email address is not valid.")
    expect(admin.get_by_label("Username")).to_have_value(name)
    check_page(admin, "admin-user-new-error")

    email = random_email()
    admin.get_by_label("Email (optional)").fill(email)
    admin.get_by_label("Password").fill(PASSWORD)
    admin.get_by_role("button", name="Create user").click()
    expect_done(admin, "The account was created.")
    expect(admin.get_by_role("heading", level=1, name=name)).to_be_visible()
    expect(admin.get_by_text(email)).to_be_visible()
    check_page(admin, "admin-user")
    account_page = admin.url.split("?")[0]

    # The new account signs in, in a browser of its own.
    theirs = contexts().new_page()
    sign_in(theirs, server, name, "/api/v1/me")
    assert signed_in_as(theirs, server) == name

    admin.get_by_role("button", name="Disable account").click()
    expect_done(admin, "The account is disabled")
    expect(admin.get_by_text("Disabled since")).to_be_visible()
    assert login_status(http, name) == 401
    assert signed_in_as(theirs, server) is None  # the open session is over

    admin.get_by_role("button", name="Enable account").click()
    expect_done(admin, "The account is enabled again.")
    assert login_status(http, name) == 200
    # Enabled again, the ended session stays ended: a fresh sign-in is needed.
    assert signed_in_as(theirs, server) is None
    sign_in(theirs, server, name, "/api/v1/me")
    assert signed_in_as(theirs, server) == name

    admin.get_by_label("New password").fill(f"{name} is my password")
    admin.get_by_role("button", name="Set password").click()
    expect_alert(admin, "Password must not contain the username.")
    assert login_status(http, name) == 200
    admin.get_by_label("New password").fill(NEW_PASSWORD)
    admin.get_by_role("button", name="Set password").click()
    expect_done(admin, "The password was changed")
    assert admin.url == f"{account_page}?done=password"
    assert login_status(http, name) == 401
    assert login_status(http, name, NEW_PASSWORD) == 200
    assert signed_in_as(theirs, server) is None  # their session ended


def test_granting_and_revoking_the_admin_role(
    server: LiveServer,
    admin: Page,
    actions: Actions,
    contexts: Callable[..., BrowserContext],
    http: httpx.Client,
) -> None:
    member = actions.user()
    member_id = me(http, member.access_token).json()["id"]
    theirs = contexts().new_page()
    sign_in(theirs, server, member.username, "/api/v1/me")
    theirs.goto(f"{server.url}/admin/users")
    expect(theirs.get_by_role("heading", name="Access refused")).to_be_visible()

    admin.goto(f"{server.url}/admin/users/{member_id}")
    admin.get_by_role("button", name="Make administrator").click()
    expect_done(admin, "now an instance administrator")
    theirs.goto(f"{server.url}/admin/users")
    expect(theirs.get_by_role("heading", level=1, name="Users")).to_be_visible()
    expect(
        theirs.get_by_role("navigation", name="Account").get_by_role(
            "link", name="Admin"
        )
    ).to_be_visible()

    admin.get_by_role("button", name="Revoke administrator role").click()
    expect_done(admin, "no longer an instance administrator")
    theirs.goto(f"{server.url}/admin/users")
    expect(theirs.get_by_role("heading", name="Access refused")).to_be_visible()
    assert me(http, member.access_token).json()["is_admin"] is False

    # The last administrator cannot step down, nor be disabled.
    admin_id = me(http, actions.admin().access_token).json()["id"]
    admin.goto(f"{server.url}/admin/users/{admin_id}")
    admin.get_by_role("button", name="Revoke administrator role").click()
    expect_alert(admin, "This is the last active administrator")
    check_page(admin, "admin-user-last-admin")
    admin.get_by_role("button", name="Disable account").click()
    expect_alert(admin, "This is the last active administrator")
    assert me(http, actions.admin().access_token).json()["is_admin"] is True


def test_invites_created_copied_used_revoked_and_expired(
    server: LiveServer,
    actions: Actions,
    contexts: Callable[..., BrowserContext],
    http: httpx.Client,
) -> None:
    context = contexts(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    sign_in(page, server, actions.admin().username, "/admin/invites")

    page.get_by_label("Expires in (days, optional)").fill("7")
    page.get_by_role("button", name="Create invite").click()
    code = page.locator("#invite-code").inner_text()
    assert code.startswith("ag_inv_")
    expect(page.get_by_text("It expires")).to_be_visible()
    check_page(page, "admin-invite-created")
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_text("Copied to the clipboard.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == code

    # Shown once: not on the list, not after a reload.
    page.goto(f"{server.url}/admin/invites")
    assert code not in page.content()
    expect(page.get_by_role("cell", name="Unused", exact=True)).to_have_count(1)

    name = random_name("invited")
    registered = actions.register(name, invite_code=code)
    assert registered.status_code == 201, registered.text
    page.reload()
    used = page.get_by_role("row").filter(
        has=page.get_by_role("cell", name="Used", exact=True)
    )
    expect(used).to_contain_text(name)

    # Revoke an unused one; its code then opens nothing.
    page.get_by_role("button", name="Create invite").click()
    revoked_code = page.locator("#invite-code").inner_text()
    page.goto(f"{server.url}/admin/invites")
    page.get_by_role("row").filter(has_text="Unused").get_by_role(
        "button", name="Revoke"
    ).click()
    expect_done(page, "The invite was revoked")
    expect(page.get_by_role("cell", name="Revoked", exact=True)).to_have_count(1)
    refused = actions.register(random_name(), invite_code=revoked_code)
    assert refused.status_code == 403

    # One that expires in a day, seen two days later.
    page.get_by_label("Expires in (days, optional)").fill("1")
    page.get_by_role("button", name="Create invite").click()
    page.goto(f"{server.url}/admin/invites")
    clock.advance(timedelta(days=2).total_seconds())
    page.reload()
    expect(page.get_by_role("cell", name="Expired", exact=True)).to_have_count(1)
    check_page(page, "admin-invites-list")

    # Two days on, a change asks for the password again (step-up), then the
    # console carries on where it was.
    page.get_by_role("button", name="Create invite").click()
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
    check_page(page, "reauth")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{server.url}/admin/invites")

    # Refused inline.
    page.get_by_label("Expires in (days, optional)").fill("400")
    page.evaluate("document.querySelector('#expires-in-days').removeAttribute('max')")
    page.get_by_role("button", name="Create invite").click()
    expect_alert(page, "An invite expires in 1 to 365 days.")


def test_an_invite_without_javascript(
    server: LiveServer, actions: Actions, contexts: Callable[..., BrowserContext]
) -> None:
    page = contexts(java_script_enabled=False).new_page()
    sign_in(page, server, actions.admin().username, "/admin/invites")
    page.get_by_role("button", name="Create invite").click()
    code = page.locator("#invite-code").inner_text()
    assert code.startswith("ag_inv_")
    expect(page.get_by_text("It does not expire.")).to_be_visible()
    # The Copy button needs the script: without it, it stays hidden.
    expect(page.get_by_role("button", name="Copy")).to_be_hidden()
    # No axe here: it is a script, and this browser runs none. The same page
    # is checked with scripts on in the test above.
    assert actions.register(random_name(), invite_code=code).status_code == 201


def test_the_audit_log_filtered_and_paged(
    server: LiveServer, actions: Actions, admin: Page, http: httpx.Client
) -> None:
    admin_login = actions.admin()
    admin_id = me(http, admin_login.access_token).json()["id"]
    # 30 entries of one kind, three days old, so the log has pages.
    base = (clock.now() - timedelta(days=3)).replace(second=0, microsecond=0)

    async def add(tx: Tx) -> None:
        for n in range(30):
            await tx.audit.add(
                AuditEvent(
                    action="signing_keys.rotated",
                    at=base + timedelta(minutes=n),
                    actor_id=admin_id,
                    ip="192.0.2.7",
                    details={"new": [f"kid-{n}"]},
                )
            )

    in_db(server, add)
    member = actions.user()
    org = actions.make_org(member)
    assert login_status(http, member.username, "wrong password!") == 401
    admin.goto(f"{server.url}/admin/audit")
    rows = admin.locator("table.audit tbody tr")
    expect(rows).to_have_count(25)
    # The newest first: the failed sign-in, in words, with what was recorded.
    failed = rows.filter(has_text="Sign-in failed").first
    expect(failed).to_contain_text(member.username)
    expect(failed).to_contain_text("wrong_password")
    check_page(admin, "admin-audit-log")
    assert fits_a_phone(admin)

    admin.get_by_label("Event").select_option(label="Signing keys rotated")
    admin.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(25)
    expect(rows.first).to_contain_text("kid-29")
    expect(rows.first).to_contain_text("192.0.2.7")
    expect(rows.first).to_contain_text(admin_login.username)
    admin.get_by_role("link", name="Older entries").click()
    expect(rows).to_have_count(5)
    expect(rows.last).to_contain_text("kid-0")
    expect(admin.get_by_role("link", name="Older entries")).to_have_count(0)
    expect(admin.get_by_label("Event")).to_have_value("signing_keys.rotated")
    admin.get_by_role("link", name="Newest entries").click()
    expect(rows.first).to_contain_text("kid-29")

    # A time range: the middle ten minutes of the thirty.
    admin.get_by_label("From (UTC)").fill(
        (base + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M")
    )
    admin.get_by_label("Until (UTC)").fill(
        (base + timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M")
    )
    admin.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(10)

    # By user (a username) and by organization (a slug).
    admin.get_by_role("link", name="Clear filters").click()
    admin.get_by_label("User", exact=True).fill(member.username)
    admin.get_by_role("button", name="Filter").click()
    expect(rows.filter(has_text="Organization created")).to_have_count(1)
    expect(rows.filter(has_text="Signing keys rotated")).to_have_count(0)
    admin.get_by_role("link", name="Clear filters").click()
    admin.get_by_label("Organization", exact=True).fill(org["slug"])
    admin.get_by_role("button", name="Filter").click()
    expect(rows.first).to_contain_text(org["slug"])
    assert rows.filter(has_not_text=org["slug"]).count() == 0

    admin.get_by_label("Organization", exact=True).fill("no-such-org")
    admin.get_by_role("button", name="Filter").click()
    expect_alert(admin, "No organization is named no-such-org.")
    check_page(admin, "admin-audit-error")


def test_oauth_clients_created_used_and_deleted(
    server: LiveServer, admin: Page, http: httpx.Client
) -> None:
    admin.goto(f"{server.url}/admin/clients")
    # Refused inline, the form keeps what was typed.
    admin.get_by_label("Name", exact=True).fill("Billing service")
    admin.get_by_label("Redirect URIs").fill("http://evil.example/callback")
    admin.get_by_role("button", name="Register client").click()
    expect_alert(admin, "loopback")
    expect(admin.get_by_label("Name", exact=True)).to_have_value("Billing service")

    admin.get_by_label("Redirect URIs").fill("")
    admin.get_by_label("Confidential: a server that keeps a secret").check()
    admin.get_by_label("Client credentials (a service, no user)").check()
    admin.get_by_label("Scopes (optional)").fill("read")
    admin.get_by_role("button", name="Register client").click()
    expect(
        admin.get_by_role("heading", name="Client Billing service registered")
    ).to_be_visible()
    client_id = admin.locator("#new-client-id").inner_text()
    secret = admin.locator("#new-client-secret").inner_text()
    assert secret.startswith("ag_cs_")
    check_page(admin, "admin-client-created")
    assert fits_a_phone(admin)

    token = http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "read"},
        auth=(client_id, secret),
    )
    assert token.status_code == 200, token.text
    assert token.json()["access_token"]

    # Shown once.
    admin.goto(f"{server.url}/admin/clients")
    assert secret not in admin.content()
    row = admin.get_by_role("row").filter(has_text=client_id)
    expect(row).to_contain_text("Confidential")
    expect(row).to_contain_text("Client credentials")

    # A public client: no secret at all.
    admin.get_by_label("Name", exact=True).fill("Desktop app")
    admin.get_by_label("Redirect URIs").fill("http://127.0.0.1/callback")
    admin.get_by_label("Public: a native app, CLI or browser app (no secret)").check()
    admin.get_by_role("button", name="Register client").click()
    expect(admin.get_by_text("A public client has no secret")).to_be_visible()
    expect(admin.locator("#new-client-secret")).to_have_count(0)

    admin.goto(f"{server.url}/admin/clients")
    admin.get_by_role("button", name="Delete Billing service").click()
    expect_done(admin, "The client was deleted")
    expect(admin.get_by_role("row").filter(has_text=client_id)).to_have_count(0)
    refused = http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
    )
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"


def test_rotating_the_signing_keys(
    server: LiveServer, admin: Page, http: httpx.Client
) -> None:
    before = {k["kid"] for k in http.get("/oauth/jwks").json()["keys"]}
    admin.goto(f"{server.url}/admin/keys")
    current = admin.locator("table").first.locator("tbody tr")
    expect(current).to_have_count(2)
    expect(admin.get_by_text("No retired keys yet.")).to_be_visible()

    admin.get_by_role("button", name="Rotate keys").click()
    expect_done(admin, "New signing keys are in use.")
    new_kids = set(current.locator("code").all_inner_texts())
    assert len(new_kids) == 2
    assert not new_kids & before
    retired = admin.locator("table").nth(1).locator("tbody tr")
    expect(retired).to_have_count(2)
    assert set(retired.locator("code").all_inner_texts()) == before
    check_page(admin, "admin-keys-rotated")

    published = {k["kid"] for k in http.get("/oauth/jwks").json()["keys"]}
    assert new_kids <= published  # the new keys are published at once
    assert before <= published  # the old ones until their tokens expire


def test_a_non_admin_is_refused_and_a_forged_post_changes_nothing(
    server: LiveServer, actions: Actions, contexts: Callable[..., BrowserContext]
) -> None:
    actions.admin()
    member = actions.user()
    context = contexts()
    page = context.new_page()
    sign_in(page, server, member.username, "/api/v1/me")
    page.goto(f"{server.url}/admin/users")
    expect(page.get_by_role("heading", name="Access refused")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("instance administrators")
    check_page(page, "admin-forbidden")

    # The member's own browser, with the member's own valid form token,
    # posting as a crafted page would: refused, nothing made.
    [session] = [c for c in context.cookies() if c["name"] == SESSION_COOKIE]
    services = server.app.state.services
    token = csrf_token(services.derived_key("csrf"), session["value"])
    name = random_name()
    response = context.request.post(
        f"{server.url}/admin/users",
        form={"csrf_token": token, "username": name, "password": NEW_PASSWORD},
        headers={"Origin": server.url},
    )
    assert response.status == 403
    assert "instance administrators" in response.text()
    assert in_db(server, lambda tx: tx.users.by_username(name)) is None
