"""Several instances on one database: a revocation on one reaches the caches of
the others (outbox + NOTIFY on PostgreSQL, + Redis when configured, a 1 s poll
on SQLite), and changes made by `authgate admin` reach a running server."""

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.actions import Actions
from tests.support.live import LiveServer


def _refused_within(
    client: httpx.Client, headers: dict[str, str], seconds: float
) -> float | None:
    """Seconds until /me refuses these headers, or None if it never does."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if client.get("/api/v1/me", headers=headers).status_code == 401:
            return time.monotonic() - started
        time.sleep(0.05)
    return None


#: Instances behind one load balancer share one public URL (the issuer).
SHARED = {"public_url": "https://auth.example.test"}


def _logout_on_a_reaches_b(
    start_server: Callable[..., LiveServer], **settings: Any
) -> float | None:
    a, b = start_server(**SHARED, **settings), start_server(**SHARED, **settings)
    with a.client() as on_a, b.client() as on_b:
        login = Actions(on_a).admin()
        # B verifies the JWT once and caches it (no database on the next hit).
        assert on_b.get("/api/v1/me", headers=login.bearer).status_code == 200
        assert on_b.get("/api/v1/me", headers=login.bearer).status_code == 200
        assert on_a.post("/api/v1/auth/logout", headers=login.bearer).status_code == 204
        return _refused_within(on_b, login.bearer, 5.0)


def test_revocation_reaches_another_instance(
    start_server: Callable[..., LiveServer], database_url: str
) -> None:
    delay = _logout_on_a_reaches_b(start_server)
    assert delay is not None, "instance B kept accepting a revoked session's token"
    # NOTIFY wakes PostgreSQL instances at once; SQLite relies on the 1 s poll.
    assert delay < (0.9 if database_url.startswith("postgresql") else 2.5)


@pytest.mark.redis
def test_revocation_through_redis(
    start_server: Callable[..., LiveServer], redis_url: str
) -> None:
    delay = _logout_on_a_reaches_b(start_server, redis_url=redis_url)
    assert delay is not None
    assert delay < 0.9


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_revocation_committed_out_of_order_reaches_a_running_server(
    start_server: Callable[..., LiveServer], database_url: str
) -> None:
    """A logout whose outbox row took a lower id than another revocation's,
    but committed after it (issue #17): the server's feed has already read
    past the higher id when the logout commits, and still drops the token."""
    import jwt

    server = start_server(**SHARED)
    with server.client() as client:
        login = Actions(client).admin()
        assert client.get("/api/v1/me", headers=login.bearer).status_code == 200
        claims = jwt.decode(login.access_token, options={"verify_signature": False})
        asyncio.run(_log_out_slowly(database_url, claims["sid"]))
        delay = _refused_within(client, login.bearer, 5.0)
    assert delay is not None, "the server kept accepting a revoked session's token"
    assert delay < 0.9


async def _log_out_slowly(database_url: str, session_id: str) -> None:
    """What a logout's transaction writes, committed only after a later
    revocation has committed and the server has read it."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import AsyncSession

    from authgate.storage.db import NOTIFY_CHANNEL, Database, Tx
    from authgate.util import clock

    db = Database(database_url)
    try:
        async with AsyncSession(db.engine) as session:
            await session.begin()
            logout = Tx(session)
            await logout.sessions.revoke(session_id, clock.now(), "logout")
            await logout.invalidations.add([session_id], clock.now())  # lower id
            async with db.transaction() as later:
                later.invalidate("ses_another")  # higher id, committed first
            await asyncio.sleep(1.5)  # woken by its NOTIFY, the feed reads it
            await session.execute(text(f"SELECT pg_notify('{NOTIFY_CHANNEL}', '')"))
            await session.commit()
    finally:
        await db.close()


def test_without_the_feed_the_other_instance_would_keep_the_token(
    start_server: Callable[..., LiveServer],
) -> None:
    """The control: with B's feed stopped, B's cache keeps the revoked token,
    which is exactly what the fan-out exists to prevent."""
    a, b = start_server(**SHARED), start_server(**SHARED)
    services = b.app.state.services
    with a.client() as on_a, b.client() as on_b:
        login = Actions(on_a).admin()
        assert on_b.get("/api/v1/me", headers=login.bearer).status_code == 200
        future = asyncio.run_coroutine_threadsafe(services.feed.stop(), b.loop)
        future.result(timeout=10)
        assert on_a.post("/api/v1/auth/logout", headers=login.bearer).status_code == 204
        assert _refused_within(on_b, login.bearer, 1.5) is None


def test_admin_command_reaches_a_running_server(
    start_server: Callable[..., LiveServer], database_url: str, tmp_path: Path
) -> None:
    """`authgate admin reset-password` runs in another process, on the database
    alone; the running server still drops the user's cached sessions."""
    import subprocess
    import sys
    from pathlib import Path

    from tests.conftest import SECRET

    server = start_server()
    with server.client() as client:
        login = Actions(client).admin()
        assert client.get("/api/v1/me", headers=login.bearer).status_code == 200
        authgate = Path(sys.executable).with_name("authgate")
        env = {
            **os.environ,
            "AUTHGATE_DATABASE_URL": database_url,
            "AUTHGATE_SECRET_KEY": SECRET,
            "AUTHGATE_DATA_DIR": str(tmp_path / "cli"),
        }
        done = subprocess.run(
            [
                str(authgate),
                "admin",
                "reset-password",
                login.username,
                "--password-stdin",
            ],
            input="a brand new long passphrase\n",
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert _refused_within(client, login.bearer, 5.0) is not None


def _kid(token: str) -> str:
    import base64
    import json

    header = token.split(".")[0]
    return str(
        json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]
    )


def test_a_key_rotation_by_the_cli_reaches_a_running_server(
    start_server: Callable[..., LiveServer], database_url: str, tmp_path: Path
) -> None:
    """`authgate admin rotate-keys` (another process) retires the keys the
    running server signs with: the server loads the new ring through the feed
    and signs its next tokens with the new key, without a restart."""
    import subprocess
    import sys
    from pathlib import Path

    from tests.conftest import SECRET

    server = start_server()
    with server.client() as client:
        actions = Actions(client)
        before = _kid(actions.admin().access_token)
        authgate = Path(sys.executable).with_name("authgate")
        env = {
            **os.environ,
            "AUTHGATE_DATABASE_URL": database_url,
            "AUTHGATE_SECRET_KEY": SECRET,
            "AUTHGATE_DATA_DIR": str(tmp_path / "cli"),
        }
        done = subprocess.run(
            [str(authgate), "admin", "rotate-keys"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        deadline = time.monotonic() + 5.0
        kid = before
        while kid == before and time.monotonic() < deadline:
            time.sleep(0.1)
            kid = _kid(actions.login(actions.admin().username).access_token)
        assert kid != before, "the server kept signing with the retired key"
        published = {k["kid"] for k in client.get("/oauth/jwks").json()["keys"]}
        assert {before, kid} <= published  # the retired key stays published
