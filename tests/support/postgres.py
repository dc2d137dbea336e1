"""A throwaway PostgreSQL cluster for the test session (and for
``benchmarks/run.py``, which starts its own the same way).

``AUTHGATE_TEST_POSTGRES_URL`` (a superuser URL) points at an existing server;
otherwise Debian's ``initdb`` makes a cluster in a temp dir, on a free loopback
port, run as the ``postgres`` user when the tests run as root (initdb refuses
root). Each test gets its own database, cloned from a migrated template.
"""

import asyncio
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

TEMPLATE = "authgate_template"


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    def __init__(self) -> None:
        self.url: str | None = None
        self._dir: Path | None = None
        self._bin: Path | None = None
        self._as: list[str] = []

    def start(self) -> str | None:
        external = os.environ.get("AUTHGATE_TEST_POSTGRES_URL")
        if external:
            self.url = external.rstrip("/")
            return self.url
        self._bin = _binaries()
        if self._bin is None:
            return None
        self._dir = Path(tempfile.mkdtemp(prefix="authgate-pg-"))
        user = "postgres"
        if os.geteuid() == 0:
            shutil.chown(self._dir, user=user)
            self._as = ["runuser", "-u", user, "--"]
        data = self._dir / "data"
        port = _free_port()
        self._run(
            "initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"
        )
        options = (
            f"-p {port} -k {self._dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(self._dir / "log"),
            "-w",
            "start",
        )
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{port}"
        return self.url

    def _run(self, tool: str, *args: str) -> None:
        assert self._bin is not None
        subprocess.run(
            [*self._as, str(self._bin / tool), *args],
            check=True,
            capture_output=True,
            cwd=self._dir,
        )

    def stop(self) -> None:
        if self._dir is not None and self._bin is not None:
            self._run(
                "pg_ctl", "-D", str(self._dir / "data"), "-m", "immediate", "stop"
            )
            # Gigabytes of per-test databases: delete them in the background so
            # the session's teardown does not run into the per-test timeout.
            # The shell returns at once, leaving ``rm`` to init: no child of
            # ours is left running for the interpreter to warn about.
            subprocess.run(
                ["sh", "-c", 'rm -rf "$1" >/dev/null 2>&1 &', "sh", str(self._dir)],
                check=True,
            )

    def postmaster_pid(self) -> int | None:
        """The server's root process (its backends are its children), for the
        benchmarks' CPU accounting; ``None`` for an external server."""
        if self._dir is None:
            return None
        pid_file = self._dir / "data" / "postmaster.pid"
        return int(pid_file.read_text().split()[0])

    def execute(self, statement: str) -> None:
        import asyncpg

        assert self.url is not None
        dsn = self.url.replace("postgresql+asyncpg", "postgresql") + "/postgres"

        async def run() -> None:
            connection = await asyncpg.connect(dsn)
            try:
                await connection.execute(statement)
            finally:
                await connection.close()

        asyncio.run(run())

    def database(self, name: str) -> str:
        assert self.url is not None
        return f"{self.url}/{name}"

    def make_template(self) -> None:
        from authgate.storage.migrate import upgrade

        self.execute(f"DROP DATABASE IF EXISTS {TEMPLATE}")
        self.execute(f"CREATE DATABASE {TEMPLATE}")
        upgrade(self.database(TEMPLATE))

    def empty(self) -> str:
        """A new database with no tables at all (not cloned from the template)."""
        name = "e_" + uuid.uuid4().hex[:12]
        self.execute(f"CREATE DATABASE {name} TEMPLATE template0")
        return self.database(name)

    def fresh(self) -> str:
        name = "t_" + uuid.uuid4().hex[:12]
        self.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        return self.database(name)
