"""``POST /api/v1/auth/dev/login`` and the dev-login button: the password
login's answer for any username, only on a loopback bind for loopback
clients; anywhere else the route does not exist."""

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from authgate.app import create_app
from tests.conftest import MakeSettings
from tests.support.actions import Actions, random_name
from tests.support.asserts import error
from tests.support.live import LiveServer
from tests.support.upstream import audit_events

pytestmark = pytest.mark.e2e

DEV_LOGIN = "/api/v1/auth/dev/login"


def dev_login(http: httpx.Client, username: str, **headers: str) -> httpx.Response:
    return http.post(DEV_LOGIN, json={"username": username}, headers=headers)


def test_dev_login_signs_in_and_creates_the_user(
    start_server: Callable[..., LiveServer], database_url: str
) -> None:
    server = start_server(dev_login_enabled=True)
    http = server.client()
    name = random_name("dev")
    response = dev_login(http, name)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "csrf_token",
    }
    assert body["token_type"] == "Bearer"
    assert body["refresh_token"].startswith("ag_rt_")
    assert {"ag_session", "ag_csrf", "ag_refresh"} <= set(response.cookies.keys())
    me = http.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    ).json()
    assert me["username"] == name
    assert me["is_admin"] is True  # the first user of an empty instance

    again = dev_login(http, name.upper())
    assert again.status_code == 200
    me_again = http.get(
        "/api/v1/me",
        headers={"Authorization": f"Bearer {again.json()['access_token']}"},
    ).json()
    assert me_again["id"] == me["id"]

    events = audit_events(database_url, "login.dev")
    assert len(events) == 2
    assert events[0].details["provider"] == "dev"
    assert audit_events(database_url, "user.created")[0].details["provider"] == "dev"
    assert audit_events(database_url, "login.succeeded")[0].details == {"method": "dev"}


def test_the_answer_is_the_password_logins(
    start_server: Callable[..., LiveServer], actions: Actions
) -> None:
    """Same body fields and the same cookies with the same attributes."""
    server = start_server(dev_login_enabled=True)
    http = server.client()
    name = random_name()
    assert (
        http.post(
            "/api/v1/auth/register",
            json={"username": name, "password": "correct horse battery staple"},
        ).status_code
        == 201
    )
    password = http.post(
        "/api/v1/auth/login",
        json={"username": name, "password": "correct horse battery staple"},
    )
    dev = dev_login(http, name)

    def shape(response: httpx.Response) -> Any:
        cookies = sorted(
            re.sub(r"=[^;]*;", "=…;", header, count=1)
            for header in response.headers.get_list("set-cookie")
        )
        return sorted(response.json()), cookies

    assert shape(dev) == shape(password)


def test_off_by_default(start_server: Callable[..., LiveServer]) -> None:
    response = dev_login(start_server().client(), "alice")
    error(response, 404, "not_found")


def test_no_route_on_a_non_loopback_bind(
    start_server: Callable[..., LiveServer],
) -> None:
    # The settings build; the route just is not there.
    server = start_server(host="0.0.0.0", dev_login_enabled=True)  # noqa: S104
    response = dev_login(server.client(), "alice")
    error(response, 404, "not_found")
    assert all(
        getattr(route, "path", "") not in (DEV_LOGIN, "/login/dev")
        for route in server.app.routes
    )
    page = server.client().get("/login")
    assert "Dev login" not in page.text


def test_not_through_a_proxy(start_server: Callable[..., LiveServer]) -> None:
    server = start_server(dev_login_enabled=True)
    response = dev_login(server.client(), "alice", **{"X-Forwarded-For": "192.0.2.1"})
    error(response, 404, "not_found")


@pytest.mark.anyio
async def test_not_for_a_client_off_loopback(make_settings: MakeSettings) -> None:
    """A request whose peer address is not loopback gets the 404 a missing
    route gets (the ASGI transport sets the client address)."""
    app = create_app(make_settings(dev_login_enabled=True), migrate=False)
    transport = httpx.ASGITransport(app=app, client=("192.0.2.44", 51000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://127.0.0.1"
    ) as http:
        response = await http.post(DEV_LOGIN, json={"username": "alice"})
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_the_button_on_the_login_page(
    start_server: Callable[..., LiveServer], database_url: str
) -> None:
    server = start_server(dev_login_enabled=True)
    http = server.client()
    page = http.get("/login?next=/wherever")
    assert 'action="/login/dev"' in page.text
    assert "Dev login" in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    origin = {"Origin": server.url}
    form = {"username": "dana", "csrf_token": token[1], "next": "/wherever"}
    response = http.post("/login/dev", data=form, headers=origin)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/wherever"
    assert http.get("/api/v1/me").json()["username"] == "dana"

    forged = server.client().post("/login/dev", data=form, headers=origin)
    assert forged.status_code == 403  # no login cookie: the token is not its own
