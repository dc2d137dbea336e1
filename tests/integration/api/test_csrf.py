"""CSRF: a request authenticated by the session cookie that changes something
must come from our own origin and carry the CSRF token; other credentials
need neither."""

import httpx
import pytest

from tests.support.actions import Actions, Login
from tests.support.asserts import error
from tests.support.live import LiveServer

INVITES = "/api/v1/admin/invites"


@pytest.fixture
def admin(actions: Actions) -> Login:
    return actions.admin()


def browser(server: LiveServer, signed_in: Login, **headers: str) -> httpx.Client:
    """A client holding only the admin's cookies, as a browser would."""
    http = server.client(headers=headers)
    http.cookies.set("ag_session", signed_in.cookies["ag_session"])
    http.cookies.set("ag_csrf", signed_in.cookies["ag_csrf"])
    return http


def test_unsafe_cookie_requests_need_our_origin_and_the_token(
    server: LiveServer, actions: Actions, admin: Login
) -> None:
    token = admin.body["csrf_token"]
    assert admin.cookies["ag_csrf"] == token  # the page's script reads it there
    other_session = actions.login(admin.username).body["csrf_token"]
    refused = [
        {},
        {"X-CSRF-Token": token},  # the token but no Origin
        {"Origin": "https://evil.example", "X-CSRF-Token": token},
        {"Origin": "null", "X-CSRF-Token": token},
        {"Origin": server.url.replace("127.0.0.1", "localhost"), "X-CSRF-Token": token},
        {"Referer": "https://evil.example/page", "X-CSRF-Token": token},
        {"Origin": server.url},  # our origin but no token
        {"Origin": server.url, "X-CSRF-Token": ""},
        {"Origin": server.url, "X-CSRF-Token": token[:-1]},
        {"Origin": server.url, "X-CSRF-Token": "x" * len(token)},
        {"Origin": server.url, "X-CSRF-Token": other_session},
    ]
    for headers in refused:
        with browser(server, admin, **headers) as http:
            error(http.post(INVITES, json={}), 403, "forbidden")
            error(http.delete(f"{INVITES}/inv_nope"), 403, "forbidden")
    with browser(server, admin) as http:  # safe methods need neither
        assert http.get("/api/v1/me").status_code == 200
        assert http.get(INVITES).json()["items"] == []  # nothing was created

    with browser(server, admin, Origin=server.url) as http:
        http.headers["X-CSRF-Token"] = http.cookies["ag_csrf"]
        created = http.post(INVITES, json={})
        assert created.status_code == 201, created.text
        deleted = http.delete(f"{INVITES}/{created.json()['id']}")
        assert deleted.status_code == 204, deleted.text
    referer = f"{server.url}/admin/invites"  # Referer stands in for a missing Origin
    with browser(server, admin, Referer=referer, **{"X-CSRF-Token": token}) as http:
        assert http.post(INVITES, json={}).status_code == 201


def test_bearer_requests_need_no_csrf_token(server: LiveServer, admin: Login) -> None:
    with server.client(headers=admin.bearer) as http:
        assert http.post(INVITES, json={}).status_code == 201
    # Even with the session cookie beside it, the bearer token decides.
    with browser(server, admin, **admin.bearer) as http:
        assert http.post(INVITES, json={}).status_code == 201
