"""The provider in use, as the running server reports it, and a
half-configured provider stopping ``authgate serve`` before it starts."""

import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import MakeSettings
from tests.support.cli import Cli
from tests.support.live import LiveServer

pytestmark = pytest.mark.e2e


def test_no_provider_by_default(start_server: Callable[..., LiveServer]) -> None:
    server = start_server()
    assert server.client().get("/readyz").json()["provider"] == "none"
    page = server.client().get("/login/provider")
    assert page.status_code == 404
    assert "not set up" in page.text
    assert "Sign in with" not in server.client().get("/login").text


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"AUTHGATE_OIDC_ISSUER_URL": "https://id.example.com"}, "OIDC_CLIENT_ID"),
        ({"AUTHGATE_WORKOS_CLIENT_ID": "client_1"}, "WORKOS_API_KEY"),
        ({"AUTHGATE_AUTH_PROVIDER": "workos"}, "WORKOS_CLIENT_ID"),
    ],
)
def test_serve_refuses_a_half_configured_provider(
    tmp_path: Path, env: dict[str, str], named: str
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    cli = Cli(tmp_path)
    result = cli(
        "serve",
        "--port",
        port,
        env={"AUTHGATE_DATA_DIR": str(tmp_path / "data"), **env},
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert f"AUTHGATE_{named}" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data" / "authgate.db").exists()  # never started


def test_the_provider_is_logged_at_start(
    make_settings: MakeSettings, caplog: pytest.LogCaptureFixture
) -> None:
    from authgate.app import create_app

    settings = make_settings(
        workos_client_id="client_1", workos_api_key="sk_test_1", dev_login_enabled=True
    )
    with caplog.at_level("INFO", logger="authgate"):
        create_app(settings, migrate=False)
    messages = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert ("INFO", "Web sign-in provider: workos") in messages
    warnings = [m for level, m in messages if level == "WARNING"]
    assert any("AUTHGATE_DEV_LOGIN_ENABLED is on" in m for m in warnings)


def test_dev_login_off_loopback_is_said_to_be_ignored(
    make_settings: MakeSettings, caplog: pytest.LogCaptureFixture
) -> None:
    from authgate.app import create_app

    settings = make_settings(host="0.0.0.0", dev_login_enabled=True)  # noqa: S104
    with caplog.at_level("INFO", logger="authgate"):
        create_app(settings, migrate=False)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("is ignored" in m and "0.0.0.0" in m for m in warnings)  # noqa: S104
    assert not any("is on" in m for m in warnings)
