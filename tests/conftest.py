"""Fixtures every suite shares: settings with a temp data dir, a fresh database
per test (SQLite, and PostgreSQL where the test is parametrized for it), and a
live server on a loopback port."""

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from authgate.config import Settings
from authgate.util import clock
from tests.support import mailbox
from tests.support.actions import Actions
from tests.support.live import LiveServer, live_server
from tests.support.postgres import Cluster

#: The CLI stores tokens in the OS keyring when there is one: never the
#: developer's own from a test (CLI subprocesses inherit this too). Tests of the
#: keyring register a fake one with ``keyring.set_keyring``.
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"

SECRET = "test-secret-key-0123456789abcdefghijklmnop"
#: Cheap argon2 for speed; tests about hashing parameters set their own.
FAST_ARGON2: dict[str, Any] = {"argon2_time_cost": 1, "argon2_memory_kib": 1024}

MakeSettings = Callable[..., Settings]


@pytest.fixture(scope="session")
def _rsa_keys() -> list[rsa.RSAPrivateKey]:
    return []


@pytest.fixture(autouse=True)
def _pooled_rsa_keys(
    _rsa_keys: list[rsa.RSAPrivateKey], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The RSA signing keys of the servers a test starts come from a pool made
    once per session: one costs 0.1-0.9 s to generate, and servers start
    about a thousand times. Within one test every key is still a new one."""
    from types import SimpleNamespace

    from authgate.domain import signing_keys

    handed = 0

    def generate(public_exponent: int, key_size: int) -> rsa.RSAPrivateKey:
        nonlocal handed
        while len(_rsa_keys) <= handed:
            _rsa_keys.append(rsa.generate_private_key(public_exponent, key_size))
        handed += 1
        return _rsa_keys[handed - 1]

    monkeypatch.setattr(
        signing_keys,
        "rsa",
        SimpleNamespace(
            generate_private_key=generate,
            RSAPrivateKey=rsa.RSAPrivateKey,
            RSAPublicKey=rsa.RSAPublicKey,
        ),
    )


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from authgate.storage.migrate import upgrade

    path = tmp_path_factory.mktemp("template") / "authgate.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster | None]:
    cluster = Cluster()
    try:
        url = cluster.start()
    except Exception as exc:  # a broken install is a failure in CI, a skip elsewhere
        if os.environ.get("CI") == "true":
            raise
        print(f"PostgreSQL unavailable: {exc}")  # noqa: T201
        url = None
    if url is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but PostgreSQL is not installed")
        yield None
        return
    cluster.make_template()
    yield cluster
    cluster.stop()


def _params() -> list[Any]:
    return ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=_params())
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> str:
    if request.param == "sqlite":
        path = tmp_path / "authgate.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite+aiosqlite:///{path}"
    cluster: Cluster | None = request.getfixturevalue("postgres")
    if cluster is None:
        pytest.skip("PostgreSQL is not installed")
    return cluster.fresh()


@pytest.fixture
def make_settings(tmp_path: Path, database_url: str) -> MakeSettings:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "database_url": database_url,
            "secret_key": SECRET,
            **FAST_ARGON2,
            **overrides,
        }
        return Settings(_env_file=None, **values)

    return make


@pytest.fixture
def start_server(make_settings: MakeSettings) -> Iterator[Callable[..., LiveServer]]:
    """Start a live server with settings overrides; several per test are fine."""
    from authgate.app import create_app

    servers: list[LiveServer] = []

    def start(url_host: str = "127.0.0.1", **overrides: Any) -> LiveServer:
        def make_app(url: str) -> Any:
            values = {"public_url": url, **overrides}
            return create_app(make_settings(**values), migrate=False)

        server = LiveServer(make_app, url_host=url_host).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def server(start_server: Callable[..., LiveServer]) -> LiveServer:
    return start_server()


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as http:
        yield http


@pytest.fixture
def actions(client: httpx.Client) -> Actions:
    return Actions(client)


@pytest.fixture(autouse=True, scope="session")
def _record_mail() -> Iterator[None]:
    """What live servers queue, for ``tests.support.mailbox``."""
    with mailbox.recording():
        yield


@pytest.fixture(autouse=True)
def _reset_clock() -> Iterator[None]:
    yield
    clock.reset()


__all__ = ["live_server"]
