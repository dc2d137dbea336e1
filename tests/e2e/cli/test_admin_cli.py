"""``authgate admin …``, ``db`` and ``serve``: the real console script, in its
own process, on the database a live server uses."""

import asyncio
import base64
import json
import os
import re
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import jwt
import pytest
from sqlalchemy import select

from authgate.domain.audit import AuditEvent
from authgate.domain.clients import CLI_CLIENT_ID
from authgate.server import services as web_services
from authgate.storage.db import Database, Tx
from authgate.storage.models.mail import MailRow
from authgate.util import tokens
from tests.conftest import FAST_ARGON2, SECRET
from tests.integration.storage import factories
from tests.support.actions import PASSWORD, Actions
from tests.support.cli import oauth_session, refresh_grant
from tests.support.live import LiveServer
from tests.support.smtp import smtp_server
from tests.support.totp import enrol

pytestmark = pytest.mark.e2e

T = TypeVar("T")

#: The console script of the environment running the tests.
AUTHGATE = str(Path(sys.executable).parent / "authgate")

NEW_PASSWORD = "a brand new passphrase 42"
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - only ever refused here
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
PRIVATE_JWK_MEMBERS = {"d", "p", "q", "dp", "dq", "qi"}


Env = dict[str, str | None]
RunCli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def pycache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pycache")


@pytest.fixture
def cli_env(tmp_path: Path, database_url: str, pycache: Path) -> Callable[..., Env]:
    """The environment a command runs in: only the ``AUTHGATE_*`` settings the
    test gives, the database of the test, and the same secret as the live
    servers; ``None`` removes a variable."""

    def make(**overrides: str | None) -> Env:
        env: Env = {
            k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")
        }
        # Each command is a new interpreter: let them share compiled bytecode
        # (kept out of the tree), or every one compiles the app from source.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
        env.update(
            AUTHGATE_DATA_DIR=str(tmp_path / "data"),
            AUTHGATE_SECRET_KEY=SECRET,
            AUTHGATE_DATABASE_URL=database_url,
            AUTHGATE_ARGON2_TIME_COST=str(FAST_ARGON2["argon2_time_cost"]),
            AUTHGATE_ARGON2_MEMORY_KIB=str(FAST_ARGON2["argon2_memory_kib"]),
        )
        env.update(overrides)
        return env

    return make


def clean(env: Env) -> dict[str, str]:
    return {k: v for k, v in env.items() if v is not None}


@pytest.fixture
def cli(tmp_path: Path, cli_env: Callable[..., Env]) -> RunCli:
    """``cli("admin", "create-user", "bob", input="...", env={...})``"""

    def run(
        *args: str, input: str | None = None, env: Env | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [AUTHGATE, *args],
            input=input,
            capture_output=True,
            text=True,
            env=clean(cli_env(**(env or {}))),
            cwd=tmp_path,  # no stray .env
            timeout=60,
            check=False,
        )

    return run


def in_db(url: str, use: Callable[[Tx], Awaitable[T]]) -> T:
    """``use(tx)`` in one transaction on ``url``, from outside any server."""

    async def main() -> T:
        db = Database(url)
        try:
            async with db.transaction() as tx:
                return await use(tx)
        finally:
            await db.close()

    return asyncio.run(main())


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def failed(result: subprocess.CompletedProcess[str]) -> str:
    """A clean failure: non-zero exit, no traceback; the error text."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert 'File "' not in result.stderr
    return result.stderr


def create_user(cli: RunCli, name: str, *extra: str, password: str = PASSWORD) -> str:
    return ok(
        cli(
            "admin",
            "create-user",
            name,
            "--password-stdin",
            *extra,
            input=password + "\n",
        )
    )


def me(http: httpx.Client, **headers: str) -> httpx.Response:
    return http.get("/api/v1/me", headers=headers)


def queued_templates(url: str) -> list[str]:
    async def templates(tx: Tx) -> list[str]:
        return list(await tx.session.scalars(select(MailRow.template)))

    return in_db(url, templates)


def test_create_user_then_sign_in_as_admin(
    cli: RunCli, start_server: Callable[..., LiveServer], database_url: str
) -> None:
    out = create_user(cli, "bob", "--admin", "--email", "bob@example.com")
    assert "bob" in out
    assert "admin" in out
    server = start_server()
    with server.client() as http:
        actions = Actions(http)
        bob = actions.login("bob")
        http.cookies.clear()
        body = me(http, **bob.bearer).json()
        assert body["username"] == "bob"
        assert body["email"] == "bob@example.com"
        assert body["email_verified"] is False  # a link was mailed instead
        assert body["is_admin"] is True
        # the admin flag is what the server enforces, not just what /me says
        assert http.get("/api/v1/admin/invites", headers=bob.bearer).status_code == 200
    # Queued by the command (another process): the queue names its kind in
    # the clear.
    assert queued_templates(database_url) == ["verify_email"]


@SQLITE_ONLY
def test_create_user_with_an_address_known_to_be_theirs(
    cli: RunCli, database_url: str
) -> None:
    create_user(cli, "dora", "--email", "dora@example.com", "--email-verified")
    dora = in_db(database_url, lambda tx: tx.users.by_username("dora"))
    assert dora is not None
    assert dora.email_verified


def eventually(check: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"not within {seconds}s"
        time.sleep(0.1)


def test_reset_factors_removes_them_and_ends_sessions(
    cli: RunCli, start_server: Callable[..., LiveServer]
) -> None:
    server = start_server()
    with server.client() as http:
        assert Actions(http).register("bob").status_code == 201
        bob = Actions(http).login("bob")
        http.cookies.clear()
        enrol(http, bob)
        out = ok(cli("admin", "reset-factors", "bob"))
        assert "Second factors reset for bob" in out
        eventually(lambda: me(http, **bob.bearer).status_code == 401)
        again = Actions(http).login("bob")  # no second step any more
        http.cookies.clear()
        assert me(http, **again.bearer).status_code == 200
    missing = cli("admin", "reset-factors", "nobody")
    assert missing.returncode != 0
    assert "No user named nobody" in missing.stderr


def test_reset_password_changes_it_and_ends_sessions(
    cli: RunCli, start_server: Callable[..., LiveServer]
) -> None:
    server = start_server()
    with server.client() as http:
        assert Actions(http).register("bob").status_code == 201
        bob = Actions(http).login("bob")
        app = oauth_session(server.url, bob)  # an OAuth login of bob's
        http.cookies.clear()
        cookie = {"Cookie": f"ag_session={bob.cookies['ag_session']}"}
        oauth = {"Authorization": f"Bearer {app['access_token']}"}
        # all work, and the server now has them cached
        assert me(http, **cookie).status_code == 200
        assert me(http, **bob.bearer).status_code == 200
        assert me(http, **oauth).status_code == 200

        out = ok(
            cli(
                "admin",
                "reset-password",
                "bob",
                "--password-stdin",
                input=NEW_PASSWORD + "\n",
            )
        )
        assert "bob" in out

        # The command ran in another process; the running server hears of it
        # through the revocation fan-out and drops what it cached.
        eventually(lambda: me(http, **bob.bearer).status_code == 401)
        assert me(http, **cookie).status_code == 401
        # The OAuth login ends with them: its access and refresh tokens.
        eventually(lambda: me(http, **oauth).status_code == 401)
        renewed = refresh_grant(server.url, app["refresh_token"], CLI_CLIENT_ID)
        assert renewed.status_code == 400, renewed.text
        refreshed = http.post(
            "/api/v1/auth/refresh", json={"refresh_token": bob.refresh_token}
        )
        assert refreshed.status_code == 401
        old = http.post(
            "/api/v1/auth/login", json={"username": "bob", "password": PASSWORD}
        )
        assert old.status_code == 401
        new = Actions(http).login("bob", NEW_PASSWORD)
        http.cookies.clear()
        assert me(http, **new.bearer).status_code == 200


@SQLITE_ONLY
def test_weak_password_is_a_one_line_error(cli: RunCli, database_url: str) -> None:
    result = cli("admin", "create-user", "carol", "--password-stdin", input="short\n")
    error = failed(result)
    assert result.stdout == ""
    assert error.strip().splitlines() == [
        f"Database: {database_url}",
        "error: Password must be at least 12 characters. Strength 0 of 4: A word "
        "by itself is easy to guess. Add another word or two. Uncommon words are "
        "better.",
    ]
    assert in_db(database_url, lambda tx: tx.users.by_username("carol")) is None

    result = cli(
        "admin", "reset-password", "nobody", "--password-stdin", input=PASSWORD + "\n"
    )
    error = failed(result)
    assert error.strip().splitlines()[-1] == "error: No user named nobody."


@SQLITE_ONLY  # the invite store itself is proven on both databases
def test_invite_create_prints_only_a_code_that_registers(
    cli: RunCli, start_server: Callable[..., LiveServer]
) -> None:
    server = start_server()
    with server.client() as http:
        actions = Actions(http)
        admin = actions.admin()  # the first account; now registration needs a code
        out = ok(cli("admin", "invite", "create", "--expires-in-days", "7"))
        code = out.strip()
        assert out == code + "\n"
        parsed = tokens.parse(code)
        assert parsed is not None
        assert parsed.kind == "inv"

        listed = http.get("/api/v1/admin/invites", headers=admin.bearer).json()
        (invite,) = listed["items"]
        expires = datetime.fromisoformat(invite["expires_at"])
        expected = datetime.now(UTC) + timedelta(days=7)
        assert abs(expires - expected) < timedelta(minutes=5)

        assert actions.register("nocode").status_code == 403
        registered = actions.register("newbie", invite_code=code)
        assert registered.status_code == 201, registered.text
        assert registered.json()["is_admin"] is False
        assert actions.register("again", invite_code=code).status_code == 403
        assert actions.login("newbie").access_token


@SQLITE_ONLY
def test_invite_create_with_an_address_mails_it(cli: RunCli, database_url: str) -> None:
    before = queued_templates(database_url)
    ok(cli("admin", "invite", "create"))
    assert queued_templates(database_url) == before  # no address, no mail
    ok(cli("admin", "invite", "create", "--email", "Ada@Example.org"))
    assert queued_templates(database_url) == [*before, "invite"]
    emails = [i.email for i in in_db(database_url, lambda tx: tx.invites.all())]
    assert emails == ["Ada@example.org", None]  # newest first
    bad = failed(cli("admin", "invite", "create", "--email", "not an address"))
    assert "Email address is not valid." in bad


@SQLITE_ONLY
@pytest.mark.parametrize("days", ["0", "366", "-1", "soon"])
def test_invite_with_a_bad_lifetime_fails_cleanly(
    cli: RunCli, database_url: str, days: str
) -> None:
    result = cli("admin", "invite", "create", "--expires-in-days", days)
    error = failed(result)
    assert result.stdout == ""
    assert "--expires-in-days" in error
    # in particular 0 must not mean "never expires"
    assert in_db(database_url, lambda tx: tx.invites.all()) == []


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def kid_of(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


def test_rotate_keys_on_a_running_server(
    cli: RunCli,
    start_server: Callable[..., LiveServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = start_server()
    with server.client() as http:
        actions = Actions(http)
        admin = actions.admin()
        http.cookies.clear()
        old_kid = kid_of(admin.access_token)
        before = http.get("/oauth/jwks").json()["keys"]
        assert old_kid in {k["kid"] for k in before}

        out = ok(cli("admin", "rotate-keys"))
        new_kids = out.split(":", 1)[1].strip().split(", ")
        assert old_kid not in new_kids
        assert len(new_kids) == 2  # ES256 and RS256

        # The server learns of the rotation from the first token it sees with
        # an unknown kid (another instance signing with the new key). It
        # reloads at most every KEY_RELOAD_INTERVAL; don't wait for that here.
        monkeypatch.setattr(web_services, "KEY_RELOAD_INTERVAL", 0.0)
        for kid in new_kids:  # the RS256 kid under ES256 too: 401, not 500
            probe = b64({"alg": "ES256", "typ": "at+jwt", "kid": kid}) + ".e30.AAAA"
            assert me(http, Authorization=f"Bearer {probe}").status_code == 401

        jwks = http.get("/oauth/jwks").json()
        published = {k["kid"]: k for k in jwks["keys"]}
        es256 = {kid for kid, k in published.items() if k["alg"] == "ES256"}
        new_es = (es256 & set(new_kids)).pop()
        assert old_kid in es256  # still published: its tokens are alive
        assert set(new_kids) <= set(published)
        for key in published.values():
            assert not PRIVATE_JWK_MEMBERS & set(key), key

        # old tokens still verify, on the server and against the JWKS
        assert me(http, **admin.bearer).status_code == 200
        old_key = jwt.PyJWK(published[old_kid]).key
        jwt.decode(
            admin.access_token, old_key, algorithms=["ES256"], audience=server.url
        )

        # new sign-ins use the new key
        fresh = actions.login(admin.username)
        http.cookies.clear()
        assert kid_of(fresh.access_token) == new_es
        assert me(http, **fresh.bearer).status_code == 200


@pytest.mark.parametrize(
    "database_url",
    [pytest.param("postgresql", marks=pytest.mark.postgres)],
    indirect=True,
)
def test_db_upgrade_on_postgresql(cli: RunCli) -> None:
    assert ok(cli("db", "upgrade")).strip() == "Database is up to date."


@SQLITE_ONLY
def test_db_upgrade_creates_the_embedded_database(cli: RunCli, tmp_path: Path) -> None:
    out = ok(cli("db", "upgrade", env={"AUTHGATE_DATABASE_URL": None}))
    assert out.strip() == "Database is up to date."
    url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'authgate.db'}"
    assert in_db(url, lambda tx: tx.users.count()) == 0


@SQLITE_ONLY
def test_admin_commands_never_create_a_database(cli: RunCli, tmp_path: Path) -> None:
    """Run from another folder, the default data dir is an empty one: the
    command says which database it looked for and creates nothing there."""
    elsewhere = tmp_path / "elsewhere"
    default = {"AUTHGATE_DATABASE_URL": None, "AUTHGATE_DATA_DIR": str(elsewhere)}
    for args in (("admin", "invite", "create"), ("admin", "rotate-keys")):
        error = failed(cli(*args, env=default))
        expected = f"sqlite+aiosqlite:///{elsewhere / 'authgate.db'}"
        assert error.strip().splitlines() == [
            f"error: No Authgate database at {expected}. Admin commands work on "
            "the server's database and never create one: run them with its "
            "AUTHGATE_DATABASE_URL (or AUTHGATE_DATA_DIR, or from its folder), "
            "or create a database first with 'authgate db upgrade'."
        ]
        assert not elsewhere.exists()
    # an empty file (or one no migration ran on) is no Authgate database either
    elsewhere.mkdir()
    (elsewhere / "authgate.db").touch()
    assert "No Authgate database" in failed(cli("admin", "rotate-keys", env=default))
    # once created by db upgrade, the commands use it and say so
    ok(cli("db", "upgrade", env=default))
    result = cli("admin", "invite", "create", env=default)
    assert ok(result).strip()
    assert result.stderr.splitlines() == [
        f"Database: sqlite+aiosqlite:///{elsewhere / 'authgate.db'}"
    ]


@pytest.mark.parametrize(
    "database_url",
    [pytest.param("postgresql", marks=pytest.mark.postgres)],
    indirect=True,
)
def test_admin_commands_refuse_an_empty_postgresql_database(
    cli: RunCli, database_url: str
) -> None:
    """A database no migration ran on: refused, its password never shown."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    empty = url.set(database="postgres").render_as_string(hide_password=False)
    error = failed(cli("admin", "rotate-keys", env={"AUTHGATE_DATABASE_URL": empty}))
    assert "No Authgate database at " in error
    if url.password:
        assert url.password not in error


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(env: Env, cwd: Path) -> Iterator[tuple[str, Path]]:
    """``authgate serve`` on a free port: its URL once it answers, and the
    file its output (standard output and error) goes to."""
    port = free_port()
    path = cwd / "serve.log"
    log = path.open("w+")
    process = subprocess.Popen(
        [AUTHGATE, "serve", "--port", str(port)],
        env=clean(env),
        cwd=cwd,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        # A first start compiles the app (the test's bytecode cache is new).
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, path.read_text()
            try:
                httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, path.read_text()
                time.sleep(0.1)
        yield base, path
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


@SQLITE_ONLY
def test_serve_starts_on_sqlite_and_answers_health_checks(
    cli_env: Callable[..., Env], tmp_path: Path
) -> None:
    env = cli_env(AUTHGATE_DATABASE_URL=None, AUTHGATE_SECRET_KEY=None)
    with serving(env, tmp_path) as (base, log):
        health = httpx.get(f"{base}/healthz", timeout=2)
        assert health.status_code == 200
        assert health.json() == {"status": "ok"}
        ready = httpx.get(f"{base}/readyz", timeout=5)
        assert ready.status_code == 200
        assert ready.json()["status"] == "ready"
        assert ready.json()["database"] == "ok"
        assert ready.json()["provider"] == "none"
        assert httpx.get(f"{base}/oauth/jwks", timeout=5).json()["keys"]
    output = log.read_text()
    assert "Traceback" not in output
    assert f"Authgate on {base}" in output
    assert (tmp_path / "data" / "authgate.db").exists()
    # no AUTHGATE_SECRET_KEY: a development secret was generated, private
    secret = tmp_path / "data" / "secret_key"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600


@SQLITE_ONLY
def test_serve_logs_json_lines_with_the_request_id(
    cli_env: Callable[..., Env], tmp_path: Path
) -> None:
    """Authgate's lines and uvicorn's in one format, each request's lines with
    its id: the caller's when acceptable, else one the answer tells."""
    env = cli_env(AUTHGATE_LOG_FORMAT="json", AUTHGATE_LOG_LEVEL="info")
    with serving(env, tmp_path) as (base, log):
        given = httpx.get(
            f"{base}/healthz", headers={"X-Request-ID": "lb-7f3a.42"}, timeout=5
        )
        assert given.headers["x-request-id"] == "lb-7f3a.42"
        made = httpx.get(f"{base}/readyz", timeout=5)
        assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
        refused = httpx.get(
            f"{base}/healthz", headers={"X-Request-ID": "no spaces, please"}
        )
        assert re.fullmatch(r"[0-9a-f]{32}", refused.headers["x-request-id"])
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    for line in lines:
        assert {"timestamp", "level", "logger", "request_id", "message"} <= set(line)
        assert "color_message" not in line  # uvicorn's copy for terminals
        datetime.fromisoformat(line["timestamp"])
    loggers = {line["logger"] for line in lines}
    assert {"authgate", "uvicorn.error", "uvicorn.access"} <= loggers
    access = {
        line["request_id"]: line["message"]
        for line in lines
        if line["logger"] == "uvicorn.access"
    }
    assert '"GET /healthz HTTP/1.1" 200' in access["lb-7f3a.42"]
    assert '"GET /readyz HTTP/1.1" 200' in access[made.headers["x-request-id"]]
    assert "no spaces, please" not in log.read_text()
    assert any(line["message"].startswith("Authgate on ") for line in lines)


@SQLITE_ONLY
def test_serve_refuses_single_user_mode_on_all_interfaces(cli: RunCli) -> None:
    result = cli(
        "serve",
        "--host",
        ALL_INTERFACES,
        "--port",
        str(free_port()),
        env={"AUTHGATE_AUTH_ENABLED": "false"},
    )
    error = failed(result)
    assert error.strip().splitlines() == [
        "error: AUTHGATE_AUTH_ENABLED=false is only allowed when the server binds "
        "to loopback (AUTHGATE_HOST is 0.0.0.0)"
    ]


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (
            ("db", "upgrade"),
            {"AUTHGATE_SECRET_KEY": "tooshort-s3cr3t"},
            "error: AUTHGATE_SECRET_KEY must be at least 32 characters",
        ),
        (
            ("admin", "invite", "create"),
            {"AUTHGATE_AUTH_ENABLED": "false", "AUTHGATE_HOST": ALL_INTERFACES},
            "error: AUTHGATE_AUTH_ENABLED=false is only allowed",
        ),
        (
            ("db", "upgrade"),
            {"AUTHGATE_PORT": "eighty"},
            "error: AUTHGATE_PORT: ",
        ),
        (
            ("serve",),
            {"AUTHGATE_LOG_LEVEL": "loud"},
            "error: AUTHGATE_LOG_LEVEL: Input should be 'DEBUG', 'INFO', 'WARNING', "
            "'ERROR' or 'CRITICAL'",
        ),
    ],
)
def test_settings_errors_are_one_line_and_never_echo_the_secret(
    cli: RunCli, args: tuple[str, ...], env: dict[str, str], message: str
) -> None:
    secret = env.get("AUTHGATE_SECRET_KEY") or SECRET
    error = failed(cli(*args, env=env))
    lines = error.strip().splitlines()
    assert len(lines) == 1, error
    assert lines[0].startswith(message)
    assert secret[:8] not in error


@SQLITE_ONLY
@pytest.mark.parametrize(
    "args", [("serve",), ("db", "upgrade"), ("admin", "rotate-keys")]
)
def test_server_commands_take_debug(cli: RunCli, args: tuple[str, ...]) -> None:
    """What they say to run, they accept: an unexpected error is one line
    without ``--debug``, the traceback with it."""
    down = {"AUTHGATE_DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:9/none"}
    error = failed(cli(*args, env=down))
    assert error.strip().endswith("(run with --debug for details)"), error
    debugged = cli(*args, "--debug", env=down)
    assert debugged.returncode != 0
    assert "Traceback (most recent call last)" in debugged.stderr
    assert "ConnectionRefusedError" in debugged.stderr


def test_python_dash_m_authgate_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "authgate", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.lower().startswith("usage: authgate")
    for command in ("serve", "db", "admin"):
        assert command in result.stdout


def test_prune_deletes_what_expired_and_prints_the_counts(
    cli: RunCli, database_url: str
) -> None:
    now = datetime.now(UTC)
    alice = factories.user(created_at=now)
    old, old_hash = factories.session(
        alice.id, created_at=now, last_active_at=now, expires_at=now - timedelta(days=2)
    )
    live, live_hash = factories.session(alice.id, created_at=now, last_active_at=now)

    async def add(tx: Tx) -> None:
        await tx.users.add(alice)
        await tx.sessions.add(old, old_hash)
        await tx.sessions.add(live, live_hash)
        for days in (40, 10):
            at = now - timedelta(days=days)
            await tx.audit.add(AuditEvent(action="login.succeeded", at=at))

    in_db(database_url, add)
    env = {"AUTHGATE_AUDIT_RETENTION": "30d"}
    counts = json.loads(ok(cli("admin", "prune", "--json", env=env)))
    assert (counts["sessions"], counts["audit_events"]) == (1, 1)

    async def sessions(tx: Tx) -> list[str]:
        return [s.id for s in await tx.sessions.list_for_user(alice.id)]

    assert in_db(database_url, sessions) == [live.id]
    table = ok(cli("admin", "prune")).splitlines()
    assert table[0].split() == ["STORE", "DELETED"]
    assert ["sessions", "0"] in [row.split() for row in table]


def test_mail_test_queues_a_message_a_running_server_sends(
    cli: RunCli, start_server: Callable[..., LiveServer]
) -> None:
    with smtp_server() as (inbox, port):
        start_server(smtp_url=f"smtp://127.0.0.1:{port}", mail_from="auth@example.com")
        out = ok(cli("admin", "mail-test", "ops@example.com", "--note", "from CI"))
        assert "Queued test message msg_" in out
        # queued by another process: the server's next look at the queue
        eventually(lambda: bool(inbox.messages), seconds=15)
    [received] = inbox.messages
    assert received["To"] == "ops@example.com"
    assert received["Subject"] == "Authgate test message"
    text = received.get_body(("plain",))
    assert text is not None
    assert "Note: from CI" in str(text.get_content())


@pytest.mark.parametrize("address", ["nobody", "a@example.com, b@example.com"])
def test_mail_test_refuses_what_is_not_one_address(cli: RunCli, address: str) -> None:
    assert "must be one email address" in failed(cli("admin", "mail-test", address))


# Several commands, each a new interpreter: slow on a loaded machine.
@pytest.mark.timeout(300)
def test_admin_users_list_show_disable_enable(
    cli: RunCli, start_server: Callable[..., LiveServer]
) -> None:
    create_user(cli, "alice", "--admin")
    create_user(cli, "bob", "--email", "bob@example.com")
    server = start_server()
    with server.client() as http:
        actions = Actions(http)
        bob = actions.login("bob")
        http.cookies.clear()
        pat = actions.bearer(actions.make_pat(bob)["token"])
        # both work, and the server now has them cached
        assert me(http, **bob.bearer).status_code == 200
        assert me(http, **pat).status_code == 200

        listed = ok(cli("admin", "users", "list", "--json"))
        for leak in ("argon2", "password", PASSWORD):
            assert leak not in listed
        by_name = {u["username"]: u for u in json.loads(listed)}
        assert set(by_name) == {"alice", "bob"}
        assert by_name["alice"]["is_admin"] is True
        assert by_name["bob"]["active"] is True
        table = ok(cli("admin", "users", "list", "--query", "EXAMPLE.com"))
        assert table.splitlines()[0].split()[:3] == ["USERNAME", "ID", "EMAIL"]
        assert "bob@example.com" in table
        assert "alice" not in table
        shown = ok(cli("admin", "users", "show", by_name["bob"]["id"]))
        assert "username: bob" in shown
        assert "email: bob@example.com" in shown

        disabled = json.loads(ok(cli("admin", "users", "disable", "bob", "--json")))
        assert disabled["active"] is False
        assert disabled["id"] == by_name["bob"]["id"]
        # Another process's change reaches the running server's caches.
        eventually(lambda: me(http, **bob.bearer).status_code == 401)
        eventually(lambda: me(http, **pat).status_code == 401)
        assert "Enabled bob" in ok(cli("admin", "users", "enable", "bob"))
        again = actions.login("bob")
        http.cookies.clear()
        # The sign-in reads the account itself; the copy a token's check
        # keeps follows the other process's change through the feed.
        eventually(lambda: me(http, **again.bearer).status_code == 200)


# Several commands, each a new interpreter: slow on a loaded machine.
@pytest.mark.timeout(300)
def test_admin_users_delete(
    cli: RunCli, start_server: Callable[..., LiveServer]
) -> None:
    server = start_server()
    with server.client() as http:
        actions = Actions(http)
        admin = actions.admin()
        bob = actions.user("bob")
        http.cookies.clear()
        pat = actions.bearer(actions.make_pat(bob)["token"])
        bob_id = me(http, **pat).json()["id"]  # cached by the server now

        # A script must say --yes; the last admin stays.
        assert "--yes" in failed(cli("admin", "users", "delete", "bob"))
        assert "last active administrator" in failed(
            cli("admin", "users", "delete", admin.username, "--yes")
        )
        assert me(http, **pat).status_code == 200
        deleted = json.loads(
            ok(cli("admin", "users", "delete", "bob", "--yes", "--json"))
        )
        assert deleted["id"] == bob_id
        assert deleted["username"] == "bob"
        assert deleted["credentials_revoked"] == 1
        eventually(lambda: me(http, **pat).status_code == 401)
        assert me(http, **bob.bearer).status_code == 401
        assert "No user named bob" in failed(cli("admin", "users", "show", "bob"))
        # The audit log keeps bob's entries by id, and the deletion.
        kept = http.get(
            "/api/v1/admin/audit", headers=admin.bearer, params={"user": bob_id}
        ).json()["items"]
        assert {"user.created", "access_token.created", "user.deleted"} <= {
            e["action"] for e in kept
        }
