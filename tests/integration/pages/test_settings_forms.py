"""The Settings pages over plain HTTP: who may see them, the CSRF defence of
every form, and the rules behind each change (the browser suites drive the
same pages in Chromium)."""

import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.support.actions import PASSWORD, Actions, Login, random_email
from tests.support.live import LiveServer
from tests.support.pages import post, signed_in
from tests.support.tamper import mangle

pytestmark = pytest.mark.e2e

PAGES = [
    "/settings/profile",
    "/settings/sessions",
    "/settings/tokens",
    "/settings/keys",
    "/settings/security",
]
NEW_PASSWORD = "a brand new passphrase for tests"


@pytest.fixture
def browser(server: LiveServer) -> Iterator[httpx.Client]:
    """A browser of its own: a cookie jar apart from ``actions``' client."""
    with server.client() as http:
        yield http


@pytest.mark.parametrize("path", PAGES)
def test_signed_out_visitors_are_sent_to_sign_in_and_back(
    browser: httpx.Client, path: str
) -> None:
    response = browser.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=" + path.replace("/", "%2F")


def test_settings_opens_on_the_profile(browser: httpx.Client, actions: Actions) -> None:
    signed_in(actions, browser)
    response = browser.get("/settings")
    assert response.status_code == 303
    assert response.headers["location"] == "/settings/profile"


@pytest.mark.parametrize("path", PAGES)
def test_each_page_shows_the_layout(
    browser: httpx.Client, actions: Actions, path: str
) -> None:
    login = actions.user()
    signed_in(actions, browser, login)
    response = browser.get(path)
    assert response.status_code == 200
    assert f"Signed in as <strong>{login.username}</strong>" in response.text
    assert f'href="{path}" aria-current="page"' in response.text
    assert '<form method="post" action="/logout">' in response.text
    assert 'href="/admin"' not in response.text  # not an instance admin
    assert "script-src 'none'" in response.headers["content-security-policy"]


def test_the_admin_link_is_for_instance_admins(
    browser: httpx.Client, actions: Actions
) -> None:
    signed_in(actions, browser, actions.admin())
    assert 'href="/admin"' in browser.get("/settings/profile").text


def _forms(
    actions: Actions, login: Login, browser: httpx.Client
) -> list[tuple[str, dict[str, Any]]]:
    """Every signed-in form, with fields that would succeed."""
    token = actions.make_pat(login)["id"]
    key = actions.make_key(login)["id"]
    other = actions.login(login.username).body  # a second session to revoke
    sessions = browser.get(
        "/api/v1/sessions", headers={"Authorization": f"Bearer {other['access_token']}"}
    ).json()["items"]
    second = next(s["id"] for s in sessions if s["current"])
    return [
        ("/settings/profile/email", {"email": random_email()}),
        ("/settings/security/recovery-key", {"password": PASSWORD}),
        ("/settings/security/totp", {}),
        ("/settings/security/totp/remove", {}),
        (
            "/settings/profile/password",
            {
                "current_password": PASSWORD,
                "new_password": NEW_PASSWORD,
                "confirm_password": NEW_PASSWORD,
            },
        ),
        (f"/settings/sessions/{second}/revoke", {}),
        ("/settings/sessions/revoke-others", {}),
        ("/settings/tokens", {"name": "ci", "expires_in_days": "7", "scopes": "read"}),
        (f"/settings/tokens/{token}/revoke", {}),
        ("/settings/keys", {"name": "svc", "permission": "read"}),
        (f"/settings/keys/{key}/revoke", {}),
        ("/logout", {}),
    ]


def test_every_form_refuses_a_missing_wrong_or_cross_site_token(
    browser: httpx.Client, actions: Actions
) -> None:
    login = actions.user()
    token = signed_in(actions, browser, login)
    for path, fields in _forms(actions, login, browser):
        assert post(browser, path, None, **fields).status_code == 403, path
        assert post(browser, path, mangle(token), **fields).status_code == 403
        cross = browser.post(
            path,
            data={**fields, "csrf_token": token},
            headers={"Origin": "https://evil.example"},
        )
        assert cross.status_code == 403, path
        assert "Cross-site request refused" in cross.text
    # Nothing was changed: the tokens and keys live, the session too.
    me = browser.get("/api/v1/me")
    assert me.status_code == 200
    assert len(browser.get("/api/v1/access-tokens").json()["items"]) == 1
    assert len(browser.get("/api/v1/api-keys").json()["items"]) == 1


def test_every_form_works_with_its_token(
    browser: httpx.Client, actions: Actions
) -> None:
    login = actions.user()
    token = signed_in(actions, browser, login)
    for path, fields in _forms(actions, login, browser):
        response = post(browser, path, token, **fields)
        assert response.status_code in (200, 303), (path, response.text)
        if path == "/settings/profile/password":
            login = actions.login(login.username, NEW_PASSWORD)
            # The password change kept this session: the same token works on.
            assert browser.get("/settings/profile").status_code == 200
    # /logout came last: signed out, cookies cleared.
    assert response.headers["location"] == "/login"
    assert browser.get("/settings/profile").status_code == 303


def test_changing_the_password_ends_the_other_sessions_only(
    browser: httpx.Client, actions: Actions, server: LiveServer
) -> None:
    login = actions.user()
    token = signed_in(actions, browser, login)
    elsewhere = actions.login(login.username)
    pat = actions.make_pat(login)["token"]
    with server.client() as other_browser:
        signed_in(actions, other_browser, elsewhere)
        assert other_browser.get("/settings/profile").status_code == 200
        response = post(
            browser,
            "/settings/profile/password",
            token,
            current_password=PASSWORD,
            new_password=NEW_PASSWORD,
            confirm_password=NEW_PASSWORD,
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/settings/profile?done=password"
        assert "signed out" in browser.get(response.headers["location"]).text
        # The other browser is out on its next click, its JWT and refresh too.
        assert other_browser.get("/settings/profile").status_code == 303
    assert (
        browser.get(
            "/api/v1/me", headers=actions.bearer(elsewhere.access_token)
        ).status_code
        == 401
    )
    refreshed = browser.post(
        "/api/v1/auth/refresh", json={"refresh_token": elsewhere.refresh_token}
    )
    assert refreshed.status_code == 401
    # This browser stays in; personal access tokens are not sessions.
    assert browser.get("/settings/profile").status_code == 200
    assert browser.get("/api/v1/me", headers=actions.bearer(pat)).status_code == 200
    # Only the new password signs in now.
    old = browser.post(
        "/api/v1/auth/login", json={"username": login.username, "password": PASSWORD}
    )
    assert old.status_code == 401
    actions.login(login.username, NEW_PASSWORD)


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        (
            {"current_password": "wrong password here"},
            401,
            "The current password is wrong.",
        ),
        ({"confirm_password": "something else entirely"}, 400, "do not match"),
        ({"new_password": "short", "confirm_password": "short"}, 400, "at least"),
    ],
)
def test_a_refused_password_change_changes_nothing(
    browser: httpx.Client,
    actions: Actions,
    fields: dict[str, str],
    status: int,
    message: str,
) -> None:
    login = actions.user()
    token = signed_in(actions, browser, login)
    elsewhere = actions.login(login.username)
    values = {
        "current_password": PASSWORD,
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
        **fields,
    }
    response = post(browser, "/settings/profile/password", token, **values)
    assert response.status_code == status
    assert message in response.text
    assert 'role="alert"' in response.text
    assert (
        browser.get(
            "/api/v1/me", headers=actions.bearer(elsewhere.access_token)
        ).status_code
        == 200
    )
    actions.login(login.username, PASSWORD)


def test_email_changes_follow_the_account_rules(
    browser: httpx.Client, actions: Actions
) -> None:
    taken = random_email()
    actions.user()
    other = actions.register(invite_code=actions.invite(), email=taken)
    assert other.status_code == 201
    token = signed_in(actions, browser)
    bad = post(browser, "/settings/profile/email", token, email="not an address")
    assert bad.status_code == 400
    assert "Email address is not valid." in bad.text
    clash = post(browser, "/settings/profile/email", token, email=taken.upper())
    assert clash.status_code == 409
    mine = random_email()
    assert (
        post(browser, "/settings/profile/email", token, email=mine).status_code == 303
    )
    me = browser.get("/api/v1/me").json()
    assert (me["email"], me["new_email"]) == (None, mine)  # until verified


def test_the_allowlist_holds_for_email_changes(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(signin_allowed_emails="@allowed.example")
    with server.client() as api, server.client() as browser:
        actions = Actions(api)
        admin = actions.register(email="root@allowed.example")
        assert admin.status_code == 201
        token = signed_in(actions, browser, actions.login(admin.json()["username"]))
        refused = post(
            browser, "/settings/profile/email", token, email="me@elsewhere.example"
        )
        assert refused.status_code == 403
        assert browser.get("/api/v1/me").json()["email"] == "root@allowed.example"
        removed = post(browser, "/settings/profile/email", token, email="")
        assert removed.status_code == 403
        ok = post(
            browser, "/settings/profile/email", token, email="new@allowed.example"
        )
        assert ok.status_code == 303


def test_sessions_list_and_revoke(
    browser: httpx.Client, actions: Actions, server: LiveServer
) -> None:
    login = actions.user()
    token = signed_in(actions, browser, login)
    with server.client(
        headers={"User-Agent": "Mozilla/5.0 (Macintosh) Firefox/120.0"}
    ) as other:
        other_login = other.post(
            "/api/v1/auth/login",
            json={"username": login.username, "password": PASSWORD},
        )
        assert other_login.status_code == 200
        page = browser.get("/settings/sessions").text
        assert page.count('/revoke">') == 2
        assert "(this device)" in page
        assert "Sign out all other sessions" in page
        others = post(browser, "/settings/sessions/revoke-others", token)
        assert others.status_code == 303
        assert other.get("/api/v1/me").status_code == 401
        page = browser.get("/settings/sessions").text
        assert page.count('/revoke">') == 1
        assert "Sign out all other sessions" not in page


def test_no_one_revokes_anothers_session_or_credentials(
    browser: httpx.Client, actions: Actions
) -> None:
    victim = actions.user()
    victim_session = browser.get("/api/v1/sessions", headers=victim.bearer).json()[
        "items"
    ][0]["id"]
    pat = actions.make_pat(victim)
    key = actions.make_key(victim)
    token = signed_in(actions, browser)
    for path in (
        f"/settings/sessions/{victim_session}/revoke",
        f"/settings/tokens/{pat['id']}/revoke",
        f"/settings/keys/{key['id']}/revoke",
    ):
        assert post(browser, path, token).status_code == 404, path
    assert browser.get(f"/settings/tokens/{pat['id']}/revoke").status_code == 404
    assert browser.get(f"/settings/keys/{key['id']}/revoke").status_code == 404
    assert (
        browser.get("/api/v1/me", headers=actions.bearer(pat["token"])).status_code
        == 200
    )
    assert browser.get("/api/v1/me", headers=victim.bearer).status_code == 200


def _secret(text: str) -> str:
    match = re.search(r'<code class="secret" id="secret"[^>]*>([^<]+)</code>', text)
    assert match, text
    return match[1]


def test_a_token_is_shown_once_and_works(
    browser: httpx.Client, actions: Actions
) -> None:
    token = signed_in(actions, browser)
    created = post(
        browser,
        "/settings/tokens",
        token,
        name="deploys",
        expires_in_days="3",
        scopes="read",
    )
    assert created.status_code == 200
    assert "it will not be shown again" in created.text
    assert created.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in created.headers["content-security-policy"]
    secret = _secret(created.text)
    me = browser.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {secret}", "Cookie": ""}
    )
    assert me.json()["auth"]["kind"] == "pat"
    listing = browser.get("/settings/tokens").text
    assert "deploys" in listing
    assert secret not in listing
    assert f"<code>{secret[:11]}…</code>" in listing  # the display prefix


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"expires_in_days": "0"},
            "Expiry must be a whole number of days from 1 to 30.",
        ),
        ({"expires_in_days": "31"}, "from 1 to 30"),
        ({"expires_in_days": "soon"}, "from 1 to 30"),
        ({"scopes": []}, "A token needs at least one scope."),
        ({"scopes": "sudo"}, "Unknown scope: sudo."),
        ({"name": "   "}, "Name must be 1-100 printable characters."),
    ],
)
def test_token_form_errors_are_shown_in_words(
    start_server: Callable[..., LiveServer], fields: dict[str, Any], message: str
) -> None:
    server = start_server(pat_max_days=30)
    with server.client() as api, server.client() as browser:
        actions = Actions(api)
        token = signed_in(actions, browser)
        values = {
            "name": "ci",
            "expires_in_days": "7",
            "scopes": ["read", "write"],
            **fields,
        }
        response = post(browser, "/settings/tokens", token, **values)
        assert response.status_code == 400
        assert message in response.text
        assert browser.get("/api/v1/access-tokens").json()["items"] == []


def test_api_keys_in_an_organization_follow_the_roles(
    browser: httpx.Client, actions: Actions
) -> None:
    owner = actions.user()
    org = actions.make_org(owner)
    viewer = actions.org_member(owner, org["id"], role="viewer")
    member = actions.org_member(owner, org["id"], role="member")

    token = signed_in(actions, browser, viewer)
    assert org["id"] not in browser.get("/settings/keys").text  # not offered
    refused = post(
        browser, "/settings/keys", token, name="k", permission="read", org=org["id"]
    )
    assert refused.status_code == 403
    assert "does not allow api_keys.create" in refused.text

    browser.cookies.clear()
    token = signed_in(actions, browser, member)
    assert f'<option value="{org["id"]}"' in browser.get("/settings/keys").text
    created = post(
        browser, "/settings/keys", token, name="k", permission="write", org=org["id"]
    )
    assert created.status_code == 200
    me = browser.get(
        "/api/v1/me", headers={"X-API-Key": _secret(created.text), "Cookie": ""}
    )
    assert me.json()["org_id"] == org["id"]
    assert me.json()["auth"]["kind"] == "api_key"

    stranger = post(browser, "/settings/keys", token, name="k", org="org_doesnotexist")
    assert stranger.status_code == 404
    bad = post(browser, "/settings/keys", token, name="k", permission="admin")
    assert bad.status_code == 400


def test_a_recovery_key_needs_the_current_password(
    browser: httpx.Client, actions: Actions
) -> None:
    token = signed_in(actions, browser)
    wrong = post(
        browser, "/settings/security/recovery-key", token, password="not my password"
    )
    assert wrong.status_code == 401
    assert "The current password is wrong." in wrong.text
    made = post(browser, "/settings/security/recovery-key", token, password=PASSWORD)
    assert made.status_code == 200
    assert _secret(made.text).startswith("ag_rec_")


def test_signing_out_this_session_from_the_list(
    browser: httpx.Client, actions: Actions
) -> None:
    login = actions.user()
    token = signed_in(actions, browser, login)
    current = next(
        s["id"] for s in browser.get("/api/v1/sessions").json()["items"] if s["current"]
    )
    response = post(browser, f"/settings/sessions/{current}/revoke", token)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert "ag_session" not in browser.cookies
    # The access token of that sign-in dies with its session.
    assert browser.get("/api/v1/me", headers=login.bearer).status_code == 401
