"""DNS rebinding: a site whose name an attacker points at this server is, to
the browser, the same origin as the attacker's pages. Its requests name its
host, so every request whose ``Host`` is not the public URL's host, a
loopback name on a loopback bind, or one of ``AUTHGATE_ALLOWED_HOSTS`` is
refused before anything runs."""

from collections.abc import Callable

import httpx
import pytest
from pydantic import ValidationError

from authgate.app import create_app
from tests.conftest import MakeSettings
from tests.support.asserts import error
from tests.support.live import LiveServer

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

DEV_LOGIN = "/api/v1/auth/dev/login"
REBOUND = [
    "rebind.attacker.example",
    "rebind.attacker.example:{port}",
    "127.0.0.1.attacker.example",
    "localhost.attacker.example:{port}",
    "",
    "[::1",
    "\u00e9",
]


def refused(response: httpx.Response) -> None:
    error(response, 421, "misdirected_request")


def test_a_rebound_host_name_is_refused_on_every_route(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(dev_login_enabled=True)
    port = server.url.rsplit(":", 1)[1]
    with server.client() as http:
        for host in REBOUND:
            headers = {b"Host": host.format(port=port).encode()}
            refused(http.post(DEV_LOGIN, json={"username": "x"}, headers=headers))
            for path in ("/metrics", "/healthz", "/login", "/api/v1/me", "/nowhere"):
                refused(http.get(path, headers=headers))
        assert http.get("/api/v1/admin/users").status_code == 401  # no account made
        for host in (f"localhost:{port}", "127.0.0.1", f"[::1]:{port}", "LOCALHOST."):
            assert http.get("/metrics", headers={"Host": host}).status_code == 200
            signed_in = http.post(
                DEV_LOGIN, json={"username": "dana"}, headers={"Host": host}
            )
            assert signed_in.status_code == 200, (host, signed_in.text)


def test_allowed_hosts_are_served_with_any_port(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(allowed_hosts="auth.example, Other.Example")
    with server.client() as http:
        for host in ("auth.example", "auth.example:443", "other.example:8443"):
            assert http.get("/healthz", headers={"Host": host}).status_code == 200
        refused(http.get("/healthz", headers={"Host": "evil.example"}))
        refused(http.get("/healthz", headers={"Host": "sub.auth.example"}))


@pytest.mark.anyio
async def test_off_loopback_only_the_public_host(make_settings: MakeSettings) -> None:
    settings = make_settings(
        host="0.0.0.0",  # noqa: S104 - a setting checked, nothing binds
        public_url="https://auth.example.test",
        allowed_hosts=["10.0.0.7"],
    )
    app = create_app(settings, migrate=False)
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app):
        for base, status in (
            ("https://auth.example.test", 200),
            ("https://auth.example.test:8443", 200),
            ("http://10.0.0.7:8000", 200),
            ("http://localhost:8000", 421),
            ("http://127.0.0.1:8000", 421),
            ("http://0.0.0.0:8000", 421),
        ):
            async with httpx.AsyncClient(transport=transport, base_url=base) as http:
                answer = await http.get("/healthz")
            assert answer.status_code == status, (base, answer.text)


@pytest.mark.parametrize(
    "value", ["http://auth.example", "auth.example:443", "auth.example/x", "::1"]
)
def test_allowed_hosts_are_bare_host_names(
    make_settings: MakeSettings, value: str
) -> None:
    with pytest.raises(ValidationError, match="AUTHGATE_ALLOWED_HOSTS"):
        make_settings(allowed_hosts=[value])
