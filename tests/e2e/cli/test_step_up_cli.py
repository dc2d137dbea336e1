"""The CLI meets a step-up (RFC 9470): a sign-in too old for a sensitive
command is told plainly to sign in again, with no refresh wasted on it."""

from pathlib import Path

import pytest

from authgate.util import clock
from tests.support.actions import Actions
from tests.support.cli import Cli, failed, oauth_session
from tests.support.live import LiveServer

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def pycache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pycache")


@pytest.fixture
def cli(tmp_path: Path, server: LiveServer, pycache: Path) -> Cli:
    return Cli(tmp_path, server.url, pycache)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_stale_login_is_told_to_sign_in_again(
    cli: Cli, actions: Actions, server: LiveServer
) -> None:
    alice = actions.user()
    session = oauth_session(server.url, alice)
    cli.store(**session)
    clock.advance(11 * 60)
    line = failed(cli("tokens", "create", "laptop", "--expires-in-days", "7"), 1)
    assert line == (
        "error: This needs a sign-in from the last 10 minutes. "
        "Run 'authgate auth login' again, then retry."
    )
    # Not refreshed: a refresh keeps the old sign-in.
    assert cli.entry()["refresh_token"] == session["refresh_token"]
    assert cli.ok("whoami").strip() == f"{alice.username} via jwt"
