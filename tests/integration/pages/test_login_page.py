"""``/login``: the sign-in page every browser flow (consent, device) starts at."""

import re
from urllib.parse import urlencode

import httpx
import pytest

from tests.support.actions import PASSWORD, Actions
from tests.support.live import LiveServer

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def login_form(http: httpx.Client, next_url: str | None = None) -> str:
    page = http.get("/login", params={"next": next_url} if next_url else None)
    assert page.status_code == 200
    match = CSRF.search(page.text)
    assert match
    return match[1]


@pytest.fixture
def account(actions: Actions) -> str:
    return actions.user().username


def test_the_form(server: LiveServer) -> None:
    with server.client() as http:
        page = http.get("/login")
    assert page.status_code == 200
    assert '<label for="username">Username</label>' in page.text
    assert '<label for="password">Password</label>' in page.text
    assert ">Sign in</button>" in page.text
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "form-action 'self'" in csp
    assert "script-src 'none'" in csp
    assert page.headers["cache-control"] == "no-store"
    # Not no-referrer: under it browsers post forms with ``Origin: null``.
    assert page.headers["referrer-policy"] == "same-origin"
    assert "<script" not in page.text
    assert "style=" not in page.text


def test_sign_in_and_go_next(server: LiveServer, account: str) -> None:
    with server.client() as http:
        token = login_form(http, "/device?user_code=ABCD")
        response = http.post(
            "/login",
            data={
                "username": account,
                "password": PASSWORD,
                "csrf_token": token,
                "next": "/device?user_code=ABCD",
            },
            headers={"Origin": server.url},
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/device?user_code=ABCD"
        assert "ag_session" in http.cookies
        signed_in = http.get("/login")
        assert f"signed in as <strong>{account}</strong>" in signed_in.text
        me = http.get("/api/v1/me")
        assert me.json()["username"] == account
        assert me.json()["auth"]["kind"] == "session"


@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"],
)
def test_next_never_leaves_the_site(
    server: LiveServer, account: str, next_url: str
) -> None:
    with server.client() as http:
        token = login_form(http)
        response = http.post(
            "/login",
            data={
                "username": account,
                "password": PASSWORD,
                "csrf_token": token,
                "next": next_url,
            },
            headers={"Origin": server.url},
        )
    assert response.status_code == 303
    # Without a (safe) next, the person lands on their Settings.
    assert response.headers["location"] == "/settings"


def test_wrong_password(server: LiveServer, account: str) -> None:
    with server.client() as http:
        token = login_form(http)
        response = http.post(
            "/login",
            data={"username": account, "password": "wrong", "csrf_token": token},
            headers={"Origin": server.url},
        )
    assert response.status_code == 401
    assert "Invalid username or password." in response.text
    assert "ag_session" not in response.cookies


def test_login_csrf(server: LiveServer, account: str) -> None:
    with server.client() as http:
        token = login_form(http)
        data = {"username": account, "password": PASSWORD}
        no_token = http.post("/login", data=data, headers={"Origin": server.url})
        assert no_token.status_code == 403
        cross_site = http.post(
            "/login",
            data={**data, "csrf_token": token},
            headers={"Origin": "https://evil.example"},
        )
        assert cross_site.status_code == 403
    # A token without the cookie it was made for is worthless.
    with server.client() as fresh:
        stolen = fresh.post(
            "/login",
            data={**data, "csrf_token": token},
            headers={"Origin": server.url},
        )
        assert stolen.status_code == 403


def _form_action(http: httpx.Client, next_url: str) -> str:
    csp = http.get("/login", params={"next": next_url}).headers[
        "content-security-policy"
    ]
    return next(d for d in csp.split("; ") if d.startswith("form-action"))


def test_on_the_way_to_a_client_the_form_may_end_at_it(
    server: LiveServer, actions: Actions
) -> None:
    """With consent remembered, the sign-in ends in a redirect to the client,
    which browsers hold to the login page's form-action: the client's origin
    is allowed there, for a valid authorization request only."""
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
    with server.client() as http:
        valid = "/oauth/authorize?" + urlencode(request)
        assert _form_action(http, valid) == (
            "form-action 'self' https://app.example.com"
        )
        forged = {**request, "redirect_uri": "https://evil.example/callback"}
        assert _form_action(http, "/oauth/authorize?" + urlencode(forged)) == (
            "form-action 'self'"
        )
        unknown = {**request, "client_id": "no-such-client"}
        assert _form_action(http, "/oauth/authorize?" + urlencode(unknown)) == (
            "form-action 'self'"
        )
        assert _form_action(http, "/settings/tokens") == "form-action 'self'"
