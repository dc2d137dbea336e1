"""On an https public URL every cookie is a ``__Host-`` cookie (Secure,
``Path=/``, no ``Domain``), so no sibling domain and no plain-http page can
plant one, and only those names are read; on http (loopback dev) the plain
names stay."""

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from authgate.app import create_app
from tests.conftest import MakeSettings
from tests.support.actions import PASSWORD, random_name

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

URL = "https://auth.example.test"


@pytest.fixture
async def https(make_settings: MakeSettings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(public_url=URL), migrate=False)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=URL) as http,
    ):
        yield http


def set_cookies(response: httpx.Response) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for header in response.headers.get_list("set-cookie"):
        first, *attributes = (part.strip() for part in header.split(";"))
        name, _, value = first.partition("=")
        found[name] = {"value": value}
        for attribute in attributes:
            key, _, attribute_value = attribute.partition("=")
            found[name][key.lower()] = attribute_value
    return found


def host_cookie(cookie: dict[str, str]) -> None:
    assert "secure" in cookie
    assert cookie["path"] == "/"
    assert "domain" not in cookie


async def sign_in(http: httpx.AsyncClient) -> httpx.Response:
    name = random_name()
    registered = await http.post(
        "/api/v1/auth/register", json={"username": name, "password": PASSWORD}
    )
    assert registered.status_code == 201, registered.text
    response = await http.post(
        "/api/v1/auth/login", json={"username": name, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return response


async def test_api_cookies_are_host_cookies_and_only_they_are_read(
    https: httpx.AsyncClient,
) -> None:
    cookies = set_cookies(await sign_in(https))
    assert set(cookies) == {"__Host-ag_session", "__Host-ag_csrf", "__Host-ag_refresh"}
    for cookie in cookies.values():
        host_cookie(cookie)
    assert (await https.get("/api/v1/me")).status_code == 200
    csrf = cookies["__Host-ag_csrf"]["value"]
    made = await https.post(
        "/api/v1/access-tokens",
        json={"name": "t", "expires_in_days": 1},
        headers={"Origin": URL, "X-CSRF-Token": csrf},
    )
    assert made.status_code == 201, made.text
    refreshed = await https.post("/api/v1/auth/refresh", headers={"Origin": URL})
    assert refreshed.status_code == 200, refreshed.text

    # The same values under the plain names (planted from a sibling domain)
    # open nothing.
    session = https.cookies["__Host-ag_session"]
    refresh = https.cookies["__Host-ag_refresh"]
    https.cookies.clear()
    https.cookies.set("ag_session", session)
    https.cookies.set("ag_refresh", refresh)
    assert (await https.get("/api/v1/me")).status_code == 401
    assert (await https.post("/api/v1/auth/refresh")).status_code == 401

    https.cookies.clear()
    https.cookies.set("__Host-ag_session", session)
    out = await https.post("/api/v1/auth/logout", headers={"Origin": URL})
    assert out.status_code == 204, out.text
    cleared = set_cookies(out)
    assert set(cleared) == {"__Host-ag_session", "__Host-ag_csrf", "__Host-ag_refresh"}
    for cookie in cleared.values():
        host_cookie(cookie)
    https.cookies.set("__Host-ag_session", session)
    assert (await https.get("/api/v1/me")).status_code == 401


async def test_page_sign_in_uses_host_cookies(https: httpx.AsyncClient) -> None:
    name = random_name()
    registered = await https.post(
        "/api/v1/auth/register", json={"username": name, "password": PASSWORD}
    )
    assert registered.status_code == 201
    page = await https.get("/login")
    cookies = set_cookies(page)
    assert set(cookies) == {"__Host-ag_login"}
    host_cookie(cookies["__Host-ag_login"])
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    form = {"username": name, "password": PASSWORD, "csrf_token": token[1]}
    # A plain-named nonce cookie (one an attacker could plant) is not read.
    nonce = https.cookies["__Host-ag_login"]
    https.cookies.clear()
    https.cookies.set("ag_login", nonce)
    refused = await https.post("/login", data=form, headers={"Origin": URL})
    assert refused.status_code == 403
    https.cookies.clear()
    https.cookies.set("__Host-ag_login", nonce)
    signed_in = await https.post("/login", data=form, headers={"Origin": URL})
    assert signed_in.status_code == 303, signed_in.text
    assert "__Host-ag_session" in set_cookies(signed_in)
    settings = await https.get("/settings", follow_redirects=True)
    assert settings.status_code == 200, settings.text
    assert settings.url.path.startswith("/settings")
    # Signed-in forms are bound to the __Host- session cookie.
    token = re.search(r'name="csrf_token" value="([^"]+)"', settings.text)
    assert token
    out = await https.post(
        "/logout", data={"csrf_token": token[1]}, headers={"Origin": URL}
    )
    assert out.status_code == 303
    assert set_cookies(out)["__Host-ag_session"]["max-age"] == "0"
    assert (await https.get("/api/v1/me")).status_code == 401


async def test_plain_names_on_http(make_settings: MakeSettings) -> None:
    app = create_app(make_settings(public_url="http://127.0.0.1:8000"), migrate=False)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=transport, base_url="http://127.0.0.1:8000"
        ) as http,
    ):
        cookies = set_cookies(await sign_in(http))
    assert set(cookies) == {"ag_session", "ag_csrf", "ag_refresh"}
    assert cookies["ag_refresh"]["path"] == "/api/v1/auth"
