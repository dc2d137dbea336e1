"""``authgate auth login --with-token | status | token | logout``, token
precedence, the credentials file, and how the client commands fail: the real
console script against a live server."""

import json
import os
import pty
import select
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from tests.support.actions import Actions, Login
from tests.support.cli import (
    AUTHGATE,
    CLI_CLIENT_ID,
    Cli,
    failed,
    oauth_session,
    refresh_grant,
)
from tests.support.live import LiveServer
from tests.support.oauth import discover

pytestmark = pytest.mark.e2e

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
NOT_AUTHENTICATED = [
    "Not authenticated.",
    "Run 'authgate auth login' or set --token / AUTHGATE_TOKEN.",
]
EXPIRED = "Status: EXPIRED — run 'authgate auth login' to re-authenticate"


@pytest.fixture(scope="module")
def pycache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pycache")


@pytest.fixture
def cli(tmp_path: Path, server: LiveServer, pycache: Path) -> Cli:
    return Cli(tmp_path, server.url, pycache)


def masked(token: str) -> str:
    return f"{token[:4]}...{token[-4:]}"


def lines(text: str) -> list[str]:
    return text.strip().splitlines()


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def store_oauth(cli: Cli, login: Login, **extra: Any) -> None:
    """The OAuth fields a browser login leaves, with a real access token."""
    exp = jwt.decode(login.access_token, options={"verify_signature": False})["exp"]
    cli.store(
        access_token=login.access_token,
        expires_at=exp,
        token_type="Bearer",
        username=login.username,
        **extra,
    )


# -- auth login --with-token and the credentials file -------------------------


def test_login_with_token_stores_a_private_static_token(
    cli: Cli, actions: Actions, server: LiveServer
) -> None:
    """The main flow, on both databases."""
    alice = actions.user()
    pat = actions.make_pat(alice)["token"]

    out = cli.ok("auth", "login", "--with-token", input=pat + "\n")

    assert f"Logged in to {server.url} as {alice.username}" in out
    assert pat not in out
    path = cli.credentials_path
    assert path.parent.is_dir()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) & 0o077 == 0
    data = cli.credentials()
    assert list(data["servers"]) == [server.url]
    assert data["servers"][server.url]["auth_token"] == pat
    assert data["last_server"] == server.url
    # later commands use it, with no token given
    assert cli.ok("whoami").strip() == f"{alice.username} via pat"
    assert cli.ok("auth", "token").strip() == pat


@SQLITE_ONLY
def test_credentials_are_kept_per_server(
    cli: Cli,
    actions: Actions,
    server: LiveServer,
    start_server: Callable[..., LiveServer],
) -> None:
    alice = actions.user()
    pat = actions.make_pat(alice)["token"]
    other = start_server()
    cli.ok("auth", "login", "--with-token", input=pat + "\n")

    # the other server has no token for it: nothing is sent there
    result = cli("whoami", "--server", other.url)
    assert "Not authenticated" in failed(result, 1)
    assert cli.ok("auth", "token", "--server", server.url + "/").strip() == pat
    assert set(cli.credentials()["servers"]) == {server.url}


@SQLITE_ONLY
def test_login_with_a_bad_token_stores_nothing(cli: Cli) -> None:
    result = cli("auth", "login", "--with-token", input="ag_pat_notarealtoken\n")
    assert failed(result, 1)
    assert not cli.credentials_path.exists()

    result = cli("auth", "login", "--with-token", input="\n")
    assert failed(result, 1) == "error: No token on standard input."


# -- token precedence ----------------------------------------------------------


@SQLITE_ONLY
def test_token_precedence(cli: Cli, actions: Actions) -> None:
    """--token, then AUTHGATE_TOKEN, then the static auth_token, then OAuth."""
    flag_user, env_user, static_user, oauth_user = (actions.user() for _ in range(4))
    flag = actions.make_pat(flag_user)["token"]
    env = actions.make_pat(env_user)["token"]
    static = actions.make_pat(static_user)["token"]
    cli.ok("auth", "login", "--with-token", input=static + "\n")
    store_oauth(cli, oauth_user)

    def used(*args: str, env_token: str | None) -> tuple[str, str, str]:
        environment = {"AUTHGATE_TOKEN": env_token}
        token = cli.ok("auth", "token", *args, env=environment).strip()
        status = dict(
            x.split(": ", 1)
            for x in lines(cli.ok("auth", "status", *args, env=environment))
        )
        return token, status["Authenticated via"], status["User"]

    assert used("--token", flag, env_token=env) == (
        flag,
        "--token flag",
        flag_user.username,
    )
    assert used(env_token=env) == (env, "AUTHGATE_TOKEN", env_user.username)
    assert used(env_token=None) == (static, "Static token", static_user.username)
    cli.store(auth_token=None)
    assert used(env_token=None) == (
        oauth_user.access_token,
        "OAuth",
        oauth_user.username,
    )
    # and that is the token commands send
    assert cli.ok("whoami").split()[0] == oauth_user.username


# -- auth status ---------------------------------------------------------------


@SQLITE_ONLY
def test_status_of_a_jwt(cli: Cli, actions: Actions, server: LiveServer) -> None:
    alice = actions.user()
    token = alice.access_token
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]

    out = cli.ok("auth", "status", "--token", token)

    assert token not in out
    assert lines(out) == [
        f"Server: {server.url}",
        "Authenticated via: --token flag",
        f"User: {alice.username}",
        f"Token: {masked(token)}",
        f"Token expires: {iso(exp)}",
        "Status: Valid",
    ]
    body = cli.json("auth", "status", "--token", token)
    assert body["authenticated_via"] == "--token flag"
    assert body["token"] == masked(token)
    assert body["user"] == alice.username
    assert body["expires_at"] == iso(exp)
    assert body["valid"] is True
    assert body["status"] == "Valid"
    assert token not in json.dumps(body)


@SQLITE_ONLY
def test_status_of_a_stored_oauth_session(cli: Cli, actions: Actions) -> None:
    alice = actions.user()
    store_oauth(cli, alice, refresh_token=alice.refresh_token)
    exp = jwt.decode(alice.access_token, options={"verify_signature": False})["exp"]

    out = cli.ok("auth", "status")

    assert "Authenticated via: OAuth" in lines(out)
    assert f"User: {alice.username}" in lines(out)
    assert f"Token: {masked(alice.access_token)}" in lines(out)
    assert f"Token expires: {iso(exp)}" in lines(out)
    assert "Status: Valid" in lines(out)


@SQLITE_ONLY
def test_status_of_an_expired_oauth_session_without_refresh_token(
    cli: Cli, actions: Actions
) -> None:
    alice = actions.user()
    store_oauth(cli, alice)
    cli.store(expires_at=int(time.time()) - 60)

    result = cli("auth", "status")

    assert result.returncode == 1, result.stderr
    assert EXPIRED in lines(result.stdout)
    assert "Authenticated via: OAuth" in lines(result.stdout)
    body = json.loads(cli("auth", "status", "--json").stdout)
    assert body["valid"] is False
    assert body["status"] == EXPIRED.removeprefix("Status: ")
    # and a command refuses rather than sending a dead token
    assert "auth login" in failed(cli("whoami"), 1)


@SQLITE_ONLY
def test_status_of_a_jwt_that_expired(
    tmp_path: Path, start_server: Callable[..., LiveServer], pycache: Path
) -> None:
    server = start_server(jwt_expiry="2s")
    with server.client() as http:
        alice = Actions(http).user()
    cli = Cli(tmp_path, server.url, pycache)
    exp = jwt.decode(alice.access_token, options={"verify_signature": False})["exp"]
    time.sleep(max(0.0, exp - time.time()) + 1.1)

    result = cli("auth", "status", "--token", alice.access_token)

    assert result.returncode == 1, result.stdout
    assert EXPIRED in lines(result.stdout)
    assert f"Token expires: {iso(exp)}" in lines(result.stdout)


@SQLITE_ONLY
def test_status_when_not_authenticated(cli: Cli) -> None:
    result = cli("auth", "status")
    assert result.returncode == 1
    assert lines(result.stdout) == NOT_AUTHENTICATED

    result = cli("auth", "status", "--json")
    assert result.returncode == 1
    body = json.loads(result.stdout)
    assert body["authenticated"] is False
    assert body["valid"] is False

    result = cli("auth", "token")
    assert failed(result, 1) == "error: " + " ".join(NOT_AUTHENTICATED)


@SQLITE_ONLY
def test_status_of_a_revoked_token(cli: Cli, actions: Actions) -> None:
    alice = actions.user()
    pat = actions.make_pat(alice)
    cli.ok("auth", "login", "--with-token", input=pat["token"] + "\n")
    response = actions.client.delete(
        f"/api/v1/access-tokens/{pat['id']}", headers=alice.bearer
    )
    assert response.status_code == 204

    result = cli("auth", "status")

    assert result.returncode == 1
    assert "Authenticated via: Static token" in lines(result.stdout)
    assert "Status: Valid" not in lines(result.stdout)


# -- OAuth refresh and logout ------------------------------------------------


def test_an_expired_oauth_token_is_refreshed_and_the_rotated_one_saved(
    cli: Cli, actions: Actions, server: LiveServer
) -> None:
    alice = actions.user()
    session = oauth_session(server.url, alice)
    cli.store(**session)
    cli.store(expires_at=int(time.time()) - 10)  # expired, as far as the CLI knows

    assert cli.ok("whoami").strip() == f"{alice.username} via jwt"

    first = cli.entry()
    assert first["access_token"] != session["access_token"]
    assert first["refresh_token"] != session["refresh_token"]  # rotated, and saved
    assert first["expires_at"] > time.time() + 60
    assert "client_id" not in first  # the built-in client, never saved
    assert "Status: Valid" in lines(cli.ok("auth", "status"))
    # The saved refresh token is the live one: refreshing with the old one
    # would count as reuse and end the whole grant.
    cli.store(expires_at=int(time.time()) - 10)
    assert cli.ok("auth", "token").strip() != first["access_token"]
    second = cli.entry()
    assert second["refresh_token"] not in (
        first["refresh_token"],
        session["refresh_token"],
    )
    assert cli.ok("whoami").strip() == f"{alice.username} via jwt"


@SQLITE_ONLY
def test_an_expired_session_that_cannot_be_refreshed(
    cli: Cli, actions: Actions, server: LiveServer
) -> None:
    alice = actions.user()
    session = oauth_session(server.url, alice)
    cli.store(**session)
    cli.store(expires_at=int(time.time()) - 10)
    result = cli("auth", "status")
    assert "Status: EXPIRED — it will be refreshed on the next command" in lines(
        result.stdout
    )
    # the refresh token dies at the server (signed out elsewhere, say)
    response = httpx.post(
        discover(server.url)["revocation_endpoint"],
        data={"token": session["refresh_token"], "client_id": CLI_CLIENT_ID},
    )
    assert response.status_code == 200

    message = failed(cli("whoami"), 1)
    assert "auth login" in message
    assert "expired" in message


@SQLITE_ONLY
def test_logout_revokes_the_session_and_keeps_the_static_token(
    cli: Cli, actions: Actions, server: LiveServer
) -> None:
    alice, bob = actions.user(), actions.user()
    pat = actions.make_pat(alice)["token"]
    cli.ok("auth", "login", "--with-token", input=pat + "\n")
    session = oauth_session(server.url, bob)
    cli.store(**session)

    out = cli.ok("auth", "logout")

    assert out.strip() == f"✓ Logged out of {server.url}. The static token is kept."
    entry = cli.entry()
    assert entry["auth_token"] == pat
    for field in ("access_token", "refresh_token", "expires_at", "token_type"):
        assert field not in entry
    assert cli.ok("auth", "token").strip() == pat
    # revoked at the server (RFC 7009): the refresh token no longer works
    response = refresh_grant(server.url, session["refresh_token"], CLI_CLIENT_ID)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


@SQLITE_ONLY
def test_logout_when_the_server_cannot_revoke(cli: Cli, actions: Actions) -> None:
    """The local session is dropped even if the server can't be told."""
    bob = actions.user()
    store_oauth(cli, bob, refresh_token=bob.refresh_token, client_id="cl_unknown")
    down = "http://127.0.0.1:9"
    cli.store(down, **cli.entry())

    result = cli("auth", "logout", "--server", down)

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "Could not revoke" in result.stderr
    assert down in result.stderr
    assert "access_token" not in cli.entry(down)
    assert "refresh_token" not in cli.entry(down)


@SQLITE_ONLY
def test_logout_without_a_session(cli: Cli) -> None:
    assert cli.ok("auth", "logout").startswith("No OAuth session")


# -- errors --------------------------------------------------------------------


@SQLITE_ONLY
@pytest.mark.parametrize(
    "command",
    [("whoami",), ("tokens", "list"), ("auth", "login", "--device")],
)
def test_unreachable_server(cli: Cli, command: tuple[str, ...]) -> None:
    down = "http://127.0.0.1:9"
    result = cli(*command, "--server", down, "--token", "ag_pat_whatever")
    message = failed(result)
    assert down in message


@SQLITE_ONLY
def test_api_error_is_one_line(cli: Cli, actions: Actions) -> None:
    alice = actions.user()
    result = cli("tokens", "revoke", "pat_doesnotexist", "--token", alice.access_token)
    message = failed(result, 1)
    assert message.startswith("error: ")


@SQLITE_ONLY
def test_debug_shows_the_traceback(cli: Cli, actions: Actions) -> None:
    alice = actions.user()
    args = ("tokens", "revoke", "pat_doesnotexist", "--token", alice.access_token)
    result = cli(*args, "--debug")
    assert result.returncode != 0
    assert "Traceback (most recent call last)" in result.stderr
    assert "ApiError" in result.stderr


def run_on_terminal(
    cli: Cli, *args: str, env: dict[str, str | None], piped: str | None = None
) -> tuple[str, str]:
    """Run with standard output and error on a pseudo-terminal, as a person sees
    it, except the ``piped`` one ("stdout" or "stderr"), which goes to a file:
    (what the terminal showed, what the file got)."""
    leader, follower = pty.openpty()
    with (cli.workdir / "piped.txt").open("w+b") as file:
        streams = {"stdout": follower, "stderr": follower}
        if piped:
            streams[piped] = file.fileno()
        process = subprocess.Popen(
            [AUTHGATE, *args],
            stdin=subprocess.DEVNULL,
            env=cli.env(**env),
            cwd=cli.workdir,
            stdout=streams["stdout"],
            stderr=streams["stderr"],
        )
        os.close(follower)
        chunks: list[bytes] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.5)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the child closed its end
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=10)
        os.close(leader)
        file.seek(0)
        return b"".join(chunks).decode(), file.read().decode()


@SQLITE_ONLY
def test_colour_only_on_a_terminal_and_never_with_no_color(
    cli: Cli, actions: Actions
) -> None:
    alice = actions.user()
    args = ("tokens", "create", "ci", "--token", alice.access_token)

    coloured, _ = run_on_terminal(cli, *args, env={})
    assert "\x1b[" in coloured  # a terminal gets colour...
    plain, _ = run_on_terminal(cli, *args, env={"NO_COLOR": "1"})
    assert "✓ Token created: ag_pat_" in plain
    assert "⚠ Store this token securely - it won't be shown again!" in plain
    assert "\x1b" not in plain  # ...unless NO_COLOR is set
    # each stream is coloured only if it is itself a terminal
    terminal, piped = run_on_terminal(cli, *args, env={}, piped="stdout")
    assert "✓ Token created" in piped
    assert "\x1b" not in piped
    assert "\x1b[33m⚠" in terminal
    terminal, piped = run_on_terminal(cli, *args, env={}, piped="stderr")
    assert "⚠ Store this token securely" in piped
    assert "\x1b" not in piped
    assert "\x1b[32m✓" in terminal


# -- start-up cost -------------------------------------------------------------

HEAVY = ("httpx", "pydantic", "sqlalchemy", "asyncio", "authgate.config")


def imported(cli: Cli, *args: str) -> set[str]:
    """Every module the console script imports to run ``args``."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", AUTHGATE, *args],
        capture_output=True,
        text=True,
        env=cli.env(),
        cwd=cli.workdir,
        timeout=60,
        check=False,
    )
    names = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    assert "authgate.cli" in names, result.stderr[-2000:]
    return names


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_help_and_status_stay_light(
    tmp_path: Path, actions: Actions, pycache: Path
) -> None:
    cli = Cli(tmp_path, "http://127.0.0.1:9", pycache)
    for args in (("--help",), ("auth", "--help"), ("auth", "status")):
        loaded = imported(cli, *args)
        heavy = {name for name in loaded if name.split(".")[0] in HEAVY}
        heavy |= {name for name in loaded if name.startswith("authgate.config")}
        assert not heavy, (args, sorted(heavy))
    # a stored OAuth session's status is read locally too
    store_oauth(cli, actions.user())
    loaded = imported(cli, "auth", "status")
    assert "authgate.client._tokens" in loaded
    assert not {name for name in loaded if name.split(".")[0] in HEAVY}
