"""``authgate admin create-client``: the console script registers an OAuth
client on the database a live server uses, and the client works."""

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.conftest import FAST_ARGON2, SECRET
from tests.support.cli import Cli
from tests.support.live import LiveServer
from tests.support.oauth import discover, oauth_client

pytestmark = pytest.mark.e2e


@pytest.fixture
def admin_cli(
    tmp_path: Path, database_url: str
) -> Callable[..., subprocess.CompletedProcess[str]]:
    cli = Cli(tmp_path)
    env: dict[str, str | None] = {
        "AUTHGATE_DATA_DIR": str(tmp_path / "data"),
        "AUTHGATE_SECRET_KEY": SECRET,
        "AUTHGATE_DATABASE_URL": database_url,
        "AUTHGATE_ARGON2_TIME_COST": str(FAST_ARGON2["argon2_time_cost"]),
        "AUTHGATE_ARGON2_MEMORY_KIB": str(FAST_ARGON2["argon2_memory_kib"]),
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return cli(*args, env=env)

    return run


def lines(output: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in output.strip().splitlines())


def test_confidential_client_prints_id_and_secret(
    admin_cli: Callable[..., subprocess.CompletedProcess[str]], server: LiveServer
) -> None:
    result = admin_cli(
        "admin", "create-client", "Billing", "--grant", "client_credentials"
    )
    assert result.returncode == 0, result.stderr
    printed = lines(result.stdout)
    assert set(printed) == {"client_id", "client_secret"}
    assert printed["client_secret"].startswith("ag_cs_")
    meta = discover(server.url)
    with oauth_client(meta, printed["client_id"], printed["client_secret"]) as client:
        assert client.fetch_token(grant_type="client_credentials")["access_token"]


def test_public_client_with_repeated_options_as_json(
    admin_cli: Callable[..., subprocess.CompletedProcess[str]], server: LiveServer
) -> None:
    result = admin_cli(
        "admin",
        "create-client",
        "My CLI",
        "--public",
        "--redirect-uri",
        "http://127.0.0.1/callback",
        "--redirect-uri",
        "http://[::1]/callback",
        "--grant",
        "authorization_code",
        "--grant",
        "refresh_token",
        "--grant",
        "device_code",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["client_secret"] is None
    assert body["public"] is True
    assert body["redirect_uris"] == [
        "http://127.0.0.1/callback",
        "http://[::1]/callback",
    ]
    assert body["grant_types"] == [
        "authorization_code",
        "refresh_token",
        "urn:ietf:params:oauth:grant-type:device_code",
    ]
    started = httpx.post(
        discover(server.url)["device_authorization_endpoint"],
        data={"client_id": body["client_id"]},
    )
    assert started.status_code == 200, started.text


@pytest.mark.parametrize(
    "args",
    [
        ("--redirect-uri", "http://evil.example/cb"),
        ("--public", "--grant", "client_credentials"),
        ("--grant", "password"),
        ("--grant", "authorization_code"),  # without a redirect URI
    ],
)
def test_refused_registrations_fail_cleanly(
    admin_cli: Callable[..., subprocess.CompletedProcess[str]], args: tuple[str, ...]
) -> None:
    result = admin_cli("admin", "create-client", "Bad", *args)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "error" in result.stderr
