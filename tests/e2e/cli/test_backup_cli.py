"""``authgate db backup PATH``: a live SQLite database copied while the
server writes, restored into a new data directory, serves the same accounts."""

import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import SECRET
from tests.support.actions import PASSWORD, Actions, random_name
from tests.support.live import LiveServer

pytestmark = pytest.mark.e2e

AUTHGATE = str(Path(sys.executable).parent / "authgate")
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def db_backup(
    path: Path, database_url: str, cwd: Path
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")}
    return subprocess.run(
        [AUTHGATE, "db", "backup", str(path)],
        env={**env, "AUTHGATE_DATABASE_URL": database_url},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@SQLITE_ONLY
def test_a_backup_of_a_live_database_restores_into_a_new_data_dir(
    start_server: Callable[..., LiveServer], database_url: str, tmp_path: Path
) -> None:
    live = start_server()
    with live.client() as http:
        actions = Actions(http)
        before = actions.admin().username
        target = tmp_path / "authgate-backup.db"
        result = db_backup(target, database_url, tmp_path)
        assert result.returncode == 0, result.stderr
        assert f"to {target}" in result.stdout
        after = random_name()  # written once the backup was taken
        assert actions.register(after, invite_code=actions.invite()).status_code == 201
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert not list(tmp_path.glob(".*.partial"))

    restored = tmp_path / "restored"
    restored.mkdir()
    shutil.copy(target, restored / "authgate.db")
    server = start_server(
        data_dir=restored,
        database_url=f"sqlite+aiosqlite:///{restored / 'authgate.db'}",
        secret_key=SECRET,  # the backup is only whole with its secret
    )
    with server.client() as http:
        signed_in = Actions(http).login(before)
        me = http.get("/api/v1/me", headers=signed_in.bearer)
        assert me.json()["username"] == before
        later = http.post(
            "/api/v1/auth/login", json={"username": after, "password": PASSWORD}
        )
        assert later.status_code == 401


@SQLITE_ONLY
def test_a_backup_never_overwrites_and_says_why_it_cannot_run(
    database_url: str, tmp_path: Path
) -> None:
    taken = tmp_path / "taken.db"
    taken.write_text("keep me")
    cases = [
        (taken, database_url, f"error: {taken} exists already: name a new file."),
        (
            tmp_path / "new.db",
            "postgresql+asyncpg://authgate@localhost/authgate",
            "error: The database is not SQLite: back PostgreSQL up with pg_dump "
            "(docs/deployment.md).",
        ),
        (
            tmp_path / "new.db",
            f"sqlite+aiosqlite:///{tmp_path / 'none.db'}",
            f"error: There is no database at {tmp_path / 'none.db'}.",
        ),
    ]
    for target, url, message in cases:
        result = db_backup(target, url, tmp_path)
        assert result.returncode == 1
        assert result.stderr.strip() == message
    assert taken.read_text() == "keep me"
    assert not (tmp_path / "none.db").exists()
    assert not (tmp_path / "new.db").exists()
