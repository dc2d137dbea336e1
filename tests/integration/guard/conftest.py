"""One live Authgate for the module, wrapped so the tests can count what host
apps fetch from it, and the sample host apps (Starlette, FastAPI) each in its own
process, trusting it."""

import contextlib
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from authgate.config import Settings
from tests.conftest import FAST_ARGON2, SECRET
from tests.support.actions import Actions
from tests.support.live import LiveServer
from tests.support.processes import ROOT, app_process, free_port

HOSTS = {
    "starlette": ROOT / "tests" / "support" / "starlette_host.py",
    "fastapi": ROOT / "examples" / "fastapi_app" / "app.py",
}


class Counting:
    """ASGI wrapper counting requests by path (how often hosts fetch the JWKS)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.hits: Counter[str] = Counter()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.hits[scope["path"]] += 1
        await self.app(scope, receive, send)


@dataclass
class Authgate:
    server: LiveServer
    counting: Counting
    #: a confidential client allowed client_credentials, used for introspection
    client_id: str
    client_secret: str
    actions: Actions

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def services(self) -> Any:
        return self.counting.app.state.services

    def client_token(self, resource: str, scope: str = "read write") -> str:
        response = httpx.post(
            f"{self.url}/oauth/token",
            data={
                "grant_type": "client_credentials",
                "scope": scope,
                "resource": resource,
            },
            auth=(self.client_id, self.client_secret),
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])


def start_authgate(
    tmp: Path, template: Path, resources: list[str]
) -> tuple[LiveServer, Counting]:
    database = tmp / "authgate.db"
    shutil.copy(template, database)
    wrappers: list[Counting] = []

    def make_app(url: str) -> Any:
        from authgate.app import create_app

        settings = Settings(
            _env_file=None,
            data_dir=tmp / "data",
            database_url=f"sqlite+aiosqlite:///{database}",
            secret_key=SECRET,
            public_url=url,
            extra_resources=resources,
            rate_limit_enabled=False,
            **FAST_ARGON2,
        )
        wrappers.append(Counting(create_app(settings, migrate=False)))
        return wrappers[0]

    return LiveServer(make_app).start(), wrappers[0]


@contextlib.contextmanager
def authgate_for(tmp: Path, template: Path, resources: list[str]) -> Iterator[Authgate]:
    server, counting = start_authgate(tmp, template, resources)
    try:
        with server.client() as http:
            actions = Actions(http)
            made = actions.make_client(grant_types=["client_credentials"])
            yield Authgate(
                server, counting, made["client_id"], made["client_secret"], actions
            )
    finally:
        server.stop()


def host_env(authgate: Authgate, resource: str, **extra: str) -> dict[str, str]:
    return {
        "AUTHGATE_SERVER": authgate.url,
        "RESOURCE_URI": resource,
        "AUTHGATE_CLIENT_ID": authgate.client_id,
        "AUTHGATE_CLIENT_SECRET": authgate.client_secret,
        **extra,
    }


@dataclass(frozen=True)
class Host:
    kind: str
    url: str
    #: how long a revoked PAT may still pass (its introspection cache)
    cache_seconds: float
    #: the least time between two JWKS fetches
    jwks_interval: float

    @property
    def resource(self) -> str:
        return self.url

    @property
    def metadata(self) -> str:
        return f"{self.url}/.well-known/oauth-protected-resource"


#: The Starlette host takes short cache times; the FastAPI example keeps the
#: guard's defaults.
TUNED = {"JWKS_MIN_REFRESH_SECONDS": "1", "INTROSPECTION_CACHE_SECONDS": "1"}
TIMES = {"starlette": (1.0, 1.0), "fastapi": (5.0, 30.0)}


@contextlib.contextmanager
def hosts_for(authgate: Authgate, ports: dict[str, int]) -> Iterator[dict[str, Host]]:
    """The host apps named in ``ports``, each on its port."""
    started: dict[str, Host] = {}
    with contextlib.ExitStack() as stack:
        for kind in ports:
            resource = f"http://127.0.0.1:{ports[kind]}"
            url = stack.enter_context(
                app_process(
                    HOSTS[kind],
                    host_env(authgate, resource, **TUNED),
                    port=ports[kind],
                    ready="/public",
                )
            )
            started[kind] = Host(kind, url, *TIMES[kind])
        yield started


@pytest.fixture(scope="module")
def ports() -> dict[str, int]:
    return {kind: free_port() for kind in HOSTS}


@pytest.fixture(scope="module")
def authgate(
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
    ports: dict[str, int],
) -> Iterator[Authgate]:
    resources = [f"http://127.0.0.1:{port}" for port in ports.values()]
    with authgate_for(
        tmp_path_factory.mktemp("authgate"), sqlite_template, resources
    ) as running:
        yield running


@pytest.fixture(scope="module")
def hosts(authgate: Authgate, ports: dict[str, int]) -> Iterator[dict[str, Host]]:
    with hosts_for(authgate, ports) as started:
        yield started


@pytest.fixture(params=list(HOSTS))
def host(request: pytest.FixtureRequest, hosts: dict[str, Host]) -> Host:
    return hosts[request.param]
