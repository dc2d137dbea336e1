"""``authgate tokens | keys | sessions | org | whoami``: the management commands,
as a person reads them (tables, ✓ lines) and as a script does (``--json``)."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.actions import Actions, Login
from tests.support.asserts import present
from tests.support.cli import Cli, failed, oauth_session
from tests.support.live import LiveServer

pytestmark = pytest.mark.e2e

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
STORE_WARNING = "⚠ Store this token securely - it won't be shown again!"


@pytest.fixture(scope="module")
def pycache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pycache")


@pytest.fixture
def cli(tmp_path: Path, server: LiveServer, pycache: Path) -> Cli:
    return Cli(tmp_path, server.url, pycache)


@pytest.fixture
def alice(actions: Actions, cli: Cli) -> Login:
    """A user the CLI is signed in as, with a personal access token."""
    login = actions.user()
    pat = actions.make_pat(login)["token"]
    cli.ok("auth", "login", "--with-token", input=pat + "\n")
    return login


def table(text: str) -> tuple[list[str], list[list[str]]]:
    """A printed table as (headers, rows); columns split on runs of 2+ spaces."""
    import re

    header, *rows = text.strip().splitlines()
    split = re.compile(r"\s{2,}")
    return split.split(header), [split.split(row) for row in rows]


def by_id(rows: list[list[str]], key: str) -> list[str]:
    (row,) = [r for r in rows if r[0] == key]
    return row


def whoami(cli: Cli, token: str) -> int:
    return cli("whoami", "--token", token).returncode


# -- tokens --------------------------------------------------------------------


def test_tokens_create_list_revoke(cli: Cli, alice: Login) -> None:
    result = cli("tokens", "create", "laptop", "--expires-in-days", "7")
    assert result.returncode == 0, result.stderr
    (created_line,) = result.stdout.strip().splitlines()
    assert created_line.startswith("✓ Token created: ag_pat_")
    secret = created_line.removeprefix("✓ Token created: ")
    assert STORE_WARNING in result.stderr
    assert whoami(cli, secret) == 0  # the printed token works

    created = cli.json("tokens", "create", "ci", "--expires-in-days", "30")
    assert created["name"] == "ci"
    assert created["token"].startswith("ag_pat_")
    expires = datetime.fromisoformat(created["expires_at"].replace("Z", "+00:00"))
    expected = datetime.now(UTC) + timedelta(days=30)
    assert abs(expires - expected) < timedelta(minutes=5)

    listed = cli.json("tokens", "list")
    names = {t["name"]: t for t in listed}
    assert {"laptop", "ci"} <= set(names)
    assert all("token" not in t for t in listed)  # secrets are shown once
    headers, rows = table(cli.ok("tokens", "list"))
    assert headers == ["ID", "NAME", "CREATED", "LAST USED", "EXPIRES"]
    row = by_id(rows, created["id"])
    assert row[1] == "ci"
    assert row[2] == "just now"
    assert row[3] == "never"
    assert row[4] == created["expires_at"][:10]
    assert secret not in cli.ok("tokens", "list")

    laptop = names["laptop"]["id"]
    assert cli.ok("tokens", "revoke", laptop).strip() == "✓ Token revoked"
    assert whoami(cli, secret) == 1
    assert cli.json("tokens", "revoke", created["id"]) == {
        "id": created["id"],
        "revoked": True,
    }
    assert whoami(cli, created["token"]) == 1


# -- keys ----------------------------------------------------------------------


@SQLITE_ONLY
def test_keys_create_list_revoke(cli: Cli, alice: Login, actions: Actions) -> None:
    result = cli("keys", "create", "deploy-bot", "--permission", "write")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("✓ API key created: ag_key_")
    assert "⚠ Store this key securely" in result.stderr
    secret = result.stdout.strip().removeprefix("✓ API key created: ")

    created = cli.json("keys", "create", "reader")
    assert created["permission"] == "read"
    assert created["token"].startswith("ag_key_")
    assert cli("keys", "create", "x", "--permission", "admin").returncode == 2

    listed = {k["name"]: k for k in cli.json("keys", "list")}
    assert listed["deploy-bot"]["permission"] == "write"
    assert listed["reader"]["permission"] == "read"
    headers, rows = table(cli.ok("keys", "list"))
    assert headers[:3] == ["ID", "NAME", "PERMISSION"]
    assert by_id(rows, listed["deploy-bot"]["id"])[1:3] == ["deploy-bot", "write"]
    response = actions.client.get("/api/v1/me", headers=actions.bearer(secret))
    assert response.json()["auth"]["kind"] == "api_key"

    out = cli.ok("keys", "revoke", listed["deploy-bot"]["id"])
    assert out.strip() == "✓ API key revoked"
    response = actions.client.get("/api/v1/me", headers=actions.bearer(secret))
    assert response.status_code == 401
    remaining = {k["id"]: k for k in cli.json("keys", "list")}
    assert remaining.get(listed["deploy-bot"]["id"], {}).get("status") in (
        None,
        "revoked",
    )


# -- sessions ------------------------------------------------------------------


@SQLITE_ONLY
def test_sessions_list_revoke_and_revoke_all(cli: Cli, actions: Actions) -> None:
    bob = actions.user()
    phone = actions.login(bob.username)
    laptop = actions.login(bob.username)
    cli.store(auth_token=laptop.access_token)  # a JWT: its session is "current"

    listed = cli.json("sessions", "list")
    assert len(listed) == 3
    (current,) = [s for s in listed if s["current"]]
    headers, rows = table(cli.ok("sessions", "list"))
    assert headers == ["ID", "DEVICE", "LAST ACTIVE", "LOCATION"]
    assert len(rows) == 3
    assert [r[0] for r in rows if r[0].endswith(" (current)")] == [
        f"{current['id']} (current)"
    ]

    phone_sid = next(s["id"] for s in listed if s["id"] != current["id"])
    assert cli.ok("sessions", "revoke", phone_sid).strip() == "✓ Session revoked"
    assert {s["id"] for s in cli.json("sessions", "list")} == {
        s["id"] for s in listed
    } - {phone_sid}

    refused = cli("sessions", "revoke-all")
    assert refused.returncode == 2
    assert "--yes" in refused.stderr
    assert len(cli.json("sessions", "list")) == 2  # nothing ended

    assert cli.ok("sessions", "revoke-all", "--yes").strip() == "✓ Revoked 2 sessions"
    response = actions.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": phone.refresh_token}
    )
    assert response.status_code == 401
    pat = actions.make_pat(actions.login(bob.username))["token"]
    actions.client.cookies.clear()
    assert len(cli.json("sessions", "list", "--token", pat)) == 1


def test_the_cli_login_is_a_session_and_revoke_all_ends_it(
    cli: Cli, actions: Actions, server: LiveServer
) -> None:
    """The CLI's OAuth login is listed as a session named after the client;
    ``revoke-all`` ends it with the rest, and the CLI, its access token and
    its refresh both refused, says to sign in again."""
    bob = actions.user()
    cli.store(**oauth_session(server.url, bob))

    listed = cli.json("sessions", "list")
    (login,) = [s for s in listed if s["device"] == "authgate-cli"]
    assert login["id"].startswith("gr_")
    assert {s["id"] for s in listed} - {login["id"]}  # bob's API sign-in

    assert cli.ok("sessions", "revoke-all", "--yes").strip() == "✓ Revoked 2 sessions"
    message = failed(cli("whoami"), 1)
    assert "Your session has expired. Run 'authgate auth login'." in message
    refused = actions.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": bob.refresh_token}
    )
    assert refused.status_code == 401


# -- organizations -------------------------------------------------------------


@SQLITE_ONLY
def test_org_create_use_members_invite(cli: Cli, alice: Login) -> None:
    other = cli.json("org", "create", "Globex")  # the first becomes the default
    assert other["slug"] == "globex"
    assert other["role"] == "owner"
    out = cli.ok("org", "create", "Acme Corp")
    assert out.strip() == "✓ Created organization Acme Corp (acme-corp)"

    orgs = {o["slug"]: o for o in cli.json("org", "list")}
    assert set(orgs) == {"acme-corp", "globex"}
    acme = orgs["acme-corp"]
    headers, rows = table(cli.ok("org", "list"))
    assert headers == ["ID", "SLUG", "NAME", "ROLE", "CURRENT"]
    assert by_id(rows, acme["id"]) == [acme["id"], "acme-corp", "Acme Corp", "owner"]

    assert cli.json("whoami")["org_id"] == other["id"]
    out = cli.ok("org", "use", "acme-corp")
    assert out.strip() == "✓ Switched to organization: Acme Corp"
    assert cli.entry()["org"] == "acme-corp"  # remembered for this server
    # ...and sent as X-Organization-Id from then on
    me = cli.json("whoami")
    assert me["org_id"] == acme["id"]
    assert cli.ok("whoami").strip() == f"{alice.username} (org: {acme['id']}) via pat"
    assert by_id(table(cli.ok("org", "list"))[1], acme["id"])[4] == "yes"
    assert cli.ok("auth", "status").splitlines()[2] == (
        f"User: {alice.username} (org: acme-corp)"
    )
    # an API key made now belongs to that org
    assert cli.json("keys", "create", "acme-bot")["org_id"] == acme["id"]

    members = cli.json("org", "members")
    assert [(m["username"], m["role"]) for m in members] == [(alice.username, "owner")]
    headers, rows = table(cli.ok("org", "members"))
    assert headers == ["ID", "USERNAME", "EMAIL", "ROLE"]
    assert [(r[1], r[-1]) for r in rows] == [(alice.username, "owner")]

    result = cli("org", "invite", "bob@example.com", "--role", "admin")
    assert result.returncode == 0, result.stderr
    first, link = result.stdout.strip().splitlines()
    assert first == "✓ Invited bob@example.com as admin. Share this link:"
    assert link.strip().startswith(present(cli.server))
    invite = cli.json("org", "invite", "carol@example.com", "--org", "globex")
    assert invite["code"]
    assert invite["url"].startswith(cli.server)


@SQLITE_ONLY
def test_chosen_org_is_per_server(
    cli: Cli, alice: Login, start_server: Callable[..., LiveServer]
) -> None:
    globex = cli.json("org", "create", "Globex")  # the default org
    acme = cli.json("org", "create", "Acme Corp")
    cli.ok("org", "use", "acme-corp")
    other = start_server()  # the same accounts, at another address
    pat = cli.ok("auth", "token").strip()
    cli.ok("auth", "login", "--with-token", "--server", other.url, input=pat + "\n")

    # no X-Organization-Id goes to the other server: its answer is the default
    assert cli.json("whoami", "--server", other.url)["org_id"] == globex["id"]
    assert "org" not in cli.entry(other.url)
    assert cli.json("whoami", "--server", present(cli.server))["org_id"] == acme["id"]


@SQLITE_ONLY
def test_org_use_of_an_unknown_org_fails_and_keeps_the_choice(
    cli: Cli, alice: Login
) -> None:
    cli.ok("org", "create", "Acme Corp")
    cli.ok("org", "use", "acme-corp")
    message = failed(cli("org", "use", "initech"), 1)
    assert message.startswith("error: ")
    assert cli.entry()["org"] == "acme-corp"


# -- whoami --------------------------------------------------------------------


@SQLITE_ONLY
def test_whoami(cli: Cli, actions: Actions) -> None:
    alice = actions.user()
    out = cli.ok("whoami", "--token", alice.access_token)
    assert out.strip() == f"{alice.username} via jwt"
    me = cli.json("whoami", "--token", alice.access_token)
    assert me["username"] == alice.username
    assert me["auth"]["kind"] == "jwt"
    assert me["org_id"] is None
