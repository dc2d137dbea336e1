"""``/register``, ``/forgot`` and ``/logout`` over plain HTTP: the account
rules they share with the API, their CSRF defence, and what they never tell."""

from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.support.actions import PASSWORD, Actions, Login, random_name
from tests.support.live import LiveServer
from tests.support.pages import form_token, post, signed_in

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "a brand new passphrase for tests"


@pytest.fixture
def browser(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as http:
        yield http


def register(http: httpx.Client, **fields: str) -> httpx.Response:
    token = form_token(http, "/register")
    values = {"username": random_name(), "password": PASSWORD, **fields}
    return post(http, "/register", token, **values)


def test_the_login_page_links_to_register_and_forgot(browser: httpx.Client) -> None:
    page = browser.get("/login").text
    assert '<a href="/register">Create an account</a>' in page
    assert '<a href="/forgot">Forgot your password?</a>' in page


def test_the_first_account_is_the_administrator_and_signed_in(
    browser: httpx.Client,
) -> None:
    page = browser.get("/register").text
    assert "Create the administrator account" in page
    assert "Invite code" not in page
    response = register(browser, username="First.Admin")
    assert response.status_code == 303
    assert response.headers["location"] == "/settings/profile"
    me = browser.get("/api/v1/me").json()
    assert me["username"] == "first.admin"
    assert me["is_admin"] is True
    assert me["auth"]["kind"] == "session"
    # Signed in, /register has nothing to offer.
    assert browser.get("/register").headers["location"] == "/settings/profile"


def test_later_people_need_an_invite(browser: httpx.Client, actions: Actions) -> None:
    actions.admin()
    page = browser.get("/register").text
    assert "Create an account" in page
    assert 'name="invite_code" autocomplete="off"\n             required' in page
    refused = register(browser)
    assert refused.status_code == 403
    assert "Registration needs an invite code." in refused.text
    assert "ag_session" not in browser.cookies
    code = actions.invite()
    # An invite link fills the code in.
    assert f'value="{code}"' in browser.get("/register", params={"invite": code}).text
    joined = register(browser, invite_code=code)
    assert joined.status_code == 303
    assert browser.get("/api/v1/me").json()["is_admin"] is False
    # Single use.
    with httpx.Client(base_url=browser.base_url) as again:
        assert register(again, invite_code=code).status_code == 403


def test_open_registration_needs_no_invite(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(allow_registration=True)
    with server.client() as http:
        Actions(http).register()
        http.cookies.clear()
        assert "Invite code (optional)" in http.get("/register").text
        assert register(http).status_code == 303


def test_the_allowlist_holds_and_the_refusal_is_audited(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(signin_allowed_emails="@allowed.example")
    with server.client() as http:
        refused = register(http, email="someone@elsewhere.example")
        assert refused.status_code == 403
        assert "allowed addresses" in refused.text
        assert (
            register(http, username="root", email="root@allowed.example").status_code
            == 303
        )
        admin = Actions(http).login("root")
        audit = http.get(
            "/api/v1/admin/audit",
            headers=admin.bearer,
            params={"action": "login.refused"},
        )
        assert any(
            e["details"].get("reason") == "email_not_allowed"
            for e in audit.json()["items"]
        ), audit.text


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"username": "x"}, 400, "Username must be 2-64 characters"),
        ({"password": "short"}, 400, "at least"),
        (
            {"password": "password1234"},
            400,
            "Strength 1 of 4: This is a very common password. Add another word",
        ),
        ({"email": "not-an-address"}, 400, "Email address is not valid."),
    ],
)
def test_registration_errors_are_shown_in_words(
    browser: httpx.Client, fields: dict[str, str], status: int, message: str
) -> None:
    response = register(browser, **fields)
    assert response.status_code == status
    assert message in response.text
    assert 'role="alert"' in response.text
    assert "ag_session" not in browser.cookies


def test_a_taken_username_is_refused(browser: httpx.Client, actions: Actions) -> None:
    name = actions.admin().username
    response = register(browser, username=name.upper(), invite_code=actions.invite())
    assert response.status_code == 409


@pytest.mark.parametrize("path", ["/register", "/forgot"])
def test_signed_out_forms_need_their_token_and_origin(
    server: LiveServer, path: str
) -> None:
    fields = {
        "username": random_name(),
        "password": PASSWORD,
        "recovery_key": "x",
        "new_password": NEW_PASSWORD,
    }
    with server.client() as http:
        token = form_token(http, path)
        assert post(http, path, None, **fields).status_code == 403
        cross = http.post(
            path,
            data={**fields, "csrf_token": token},
            headers={"Origin": "https://evil.example"},
        )
        assert cross.status_code == 403
    with server.client() as other:  # the token without the cookie it is bound to
        assert post(other, path, token, **fields).status_code == 403


def recovery_key(http: httpx.Client, actions: Actions, login: Login) -> str:
    response = http.post(
        "/api/v1/recovery-key", headers=login.bearer, json={"password": PASSWORD}
    )
    assert response.status_code == 201
    return str(response.json()["recovery_key"])


def forgot(http: httpx.Client, **fields: str) -> httpx.Response:
    token = form_token(http, "/forgot")
    return post(http, "/forgot", token, **{"new_password": NEW_PASSWORD, **fields})


def test_forgot_password_with_a_recovery_key(
    browser: httpx.Client, actions: Actions
) -> None:
    login = actions.user()
    key = recovery_key(browser, actions, login)
    done = forgot(browser, username=login.username, recovery_key=key)
    assert done.status_code == 200
    assert "Password changed" in done.text
    # Every session ended; the new password works, the old does not.
    assert browser.get("/api/v1/me", headers=login.bearer).status_code == 401
    again_in = actions.login(login.username, NEW_PASSWORD)
    # No copy of the account cached before the reset holds the old password.
    new_key = browser.post(
        "/api/v1/recovery-key",
        headers=again_in.bearer,
        json={"password": NEW_PASSWORD},
    )
    assert new_key.status_code == 201, new_key.text
    # The key worked once.
    again = forgot(browser, username=login.username, recovery_key=key)
    assert again.status_code == 400


def test_forgot_never_tells_whether_the_account_exists(
    browser: httpx.Client, actions: Actions
) -> None:
    login = actions.user()
    recovery_key(browser, actions, login)
    answers = [
        forgot(browser, username=login.username, recovery_key="ag_rec_wrong"),
        forgot(browser, username=random_name("nobody"), recovery_key="ag_rec_wrong"),
        forgot(browser, username="!!", recovery_key="ag_rec_wrong"),
    ]
    assert {r.status_code for r in answers} == {400}
    assert all("Invalid username or recovery key." in r.text for r in answers)
    # Apart from the echoed username, the pages are the same.
    bodies = {
        r.text.replace(name, "")
        for r, name in zip(answers, [login.username, "", "!!"], strict=True)
    }
    assert len({b.split('name="csrf_token" value="')[0] for b in bodies}) == 1
    actions.login(login.username, PASSWORD)


def test_logout_ends_the_session(browser: httpx.Client, actions: Actions) -> None:
    login = actions.user()
    token = signed_in(actions, browser, login)
    response = post(browser, "/logout", token)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert "ag_session" not in browser.cookies
    assert browser.get("/api/v1/me", headers=login.bearer).status_code == 401
    refreshed = browser.post(
        "/api/v1/auth/refresh", json={"refresh_token": login.refresh_token}
    )
    assert refreshed.status_code == 401
    # Signing out when already out only clears the cookies.
    assert post(browser, "/logout", None).headers["location"] == "/login"
