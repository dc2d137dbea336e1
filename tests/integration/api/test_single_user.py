"""Single-user mode (``AUTHGATE_AUTH_ENABLED=false``): every request without a
credential is the local owner, and only on a loopback bind."""

from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from authgate.config import Settings
from tests.conftest import SECRET
from tests.support.actions import Actions, random_name
from tests.support.asserts import error
from tests.support.live import LiveServer


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, secret_key=SECRET, **values)


def test_without_auth_every_request_is_the_owner(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(auth_enabled=False)
    with server.client() as http:
        first = http.get("/api/v1/me")
        second = http.get("/api/v1/me")
        invites = http.get("/api/v1/admin/invites")
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["username"] == "owner"
    assert body["is_admin"] is True
    assert body["auth"]["kind"] == "local"
    assert second.json()["id"] == body["id"]
    assert invites.status_code == 200, invites.text


def test_without_auth_other_sites_cannot_act_as_the_owner(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(auth_enabled=False)
    invites = "/api/v1/admin/invites"
    with server.client() as http:
        for foreign in (
            {"Origin": "https://evil.example"},
            {"Origin": "null"},
            {"Referer": "https://evil.example/page"},
        ):
            error(http.post(invites, json={}, headers=foreign), 403, "forbidden")
        assert http.get(invites).json()["items"] == []
        # Our own pages, and clients that send no Origin (CLI, scripts), may.
        ours = http.post(invites, json={}, headers={"Origin": server.url})
        assert ours.status_code == 201, ours.text
        assert http.post(invites, json={}).status_code == 201


def test_without_auth_a_rebound_host_name_is_refused(
    start_server: Callable[..., LiveServer],
) -> None:
    """DNS rebinding: a site the attacker points at 127.0.0.1 is, to the browser,
    the same origin as this server. Its requests name its host: refused before
    anything is read, however the Origin matches."""
    server = start_server(auth_enabled=False)
    port = server.url.rsplit(":", 1)[1]
    with server.client() as http:
        for host in (f"evil.example:{port}", "evil.example", "127.0.0.1.evil.example"):
            origin = {"Host": host, "Origin": f"http://{host}"}
            error(http.get("/api/v1/me", headers=origin), 421, "misdirected_request")
            error(
                http.post("/api/v1/admin/invites", json={}, headers=origin),
                421,
                "misdirected_request",
            )
        assert http.get("/api/v1/admin/invites").json()["items"] == []
        for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}"):
            mine = http.get("/api/v1/me", headers={"Host": host})
            assert mine.status_code == 200, (host, mine.text)


def test_the_owner_is_the_existing_administrator(
    start_server: Callable[..., LiveServer],
) -> None:
    with start_server().client() as http:
        admin = random_name("admin")
        assert Actions(http).register(admin).status_code == 201
    with start_server(auth_enabled=False).client() as http:  # the same database
        response = http.get("/api/v1/me")
    assert response.status_code == 200, response.text
    assert response.json()["username"] == admin


NOT_LOOPBACK = [
    "0.0.0.0",  # noqa: S104 - what the test refuses
    "::",
    "192.168.1.10",
    "10.0.0.1",
    "auth.example.com",
]


@pytest.mark.parametrize("host", NOT_LOOPBACK)
def test_single_user_mode_refuses_a_non_loopback_bind(host: str) -> None:
    with pytest.raises(ValidationError, match="loopback"):
        settings(auth_enabled=False, host=host)
    assert settings(auth_enabled=True, host=host).auth_enabled is True


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"]
)
def test_single_user_mode_is_allowed_on_loopback(host: str) -> None:
    assert settings(auth_enabled=False, host=host).auth_enabled is False
