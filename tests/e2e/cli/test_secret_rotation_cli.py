"""``authgate admin rotate-secret``: with the new secret and the previous one
set, everything sealed under the previous one (signing keys' private parts,
authenticator-app secrets, queued mail) is sealed anew, after which a server
with the new secret alone loses nothing."""

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from authgate.app import mail_sealer
from authgate.domain import mail
from authgate.storage.db import Tx
from authgate.storage.models.mail import MailRow
from authgate.util import clock
from tests.conftest import FAST_ARGON2, SECRET
from tests.support.actions import PASSWORD, Actions
from tests.support.db import run
from tests.support.live import LiveServer
from tests.support.totp import code, enrol

pytestmark = pytest.mark.e2e

AUTHGATE = str(Path(sys.executable).parent / "authgate")
NEW_SECRET = "n3w-" * 12


def admin(
    database_url: str, tmp_path: Path, **settings: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")}
    env.update(
        AUTHGATE_DATA_DIR=str(tmp_path / "data"),
        AUTHGATE_DATABASE_URL=database_url,
        AUTHGATE_ARGON2_TIME_COST=str(FAST_ARGON2["argon2_time_cost"]),
        AUTHGATE_ARGON2_MEMORY_KIB=str(FAST_ARGON2["argon2_memory_kib"]),
        **settings,
    )
    return subprocess.run(
        [AUTHGATE, "admin", "rotate-secret"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def kids(http: httpx.Client) -> set[str]:
    return {key["kid"] for key in http.get("/oauth/jwks").json()["keys"]}


def sign_in(http: httpx.Client, username: str, totp_secret: str) -> dict[str, Any]:
    first = http.post(
        "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
    )
    assert first.status_code == 401, first.text
    assert first.json()["error"] == "mfa_required"
    second = http.post(
        "/api/v1/auth/login/mfa",
        json={
            "mfa_token": first.json()["mfa_token"],
            "method": "totp",
            "code": code(totp_secret),
        },
    )
    assert second.status_code == 200, second.text
    body: dict[str, Any] = second.json()
    return body


def test_rotate_secret_lets_the_previous_secret_go(
    start_server: Callable[..., LiveServer], database_url: str, tmp_path: Path
) -> None:
    old = start_server()  # under SECRET
    with old.client() as http:
        person = Actions(http).admin()
        totp_secret, _codes = enrol(http, person)
        before = kids(http)
    old.stop()
    address = "queued@example.com"
    queued = run(
        database_url,
        lambda tx: mail.queue(
            tx,
            mail_sealer((SECRET.encode(),)),
            mail.Message(to=address, template="verify_email", values={"url": "x"}),
        ),
    )

    # the new secret alone opens nothing stored yet
    refused = admin(database_url, tmp_path, AUTHGATE_SECRET_KEY=NEW_SECRET)
    assert refused.returncode == 1
    assert "cannot be decrypted with this AUTHGATE_SECRET_KEY" in refused.stderr
    assert "Traceback" not in refused.stderr

    rotated = admin(
        database_url,
        tmp_path,
        AUTHGATE_SECRET_KEY=NEW_SECRET,
        AUTHGATE_SECRET_KEY_PREVIOUS=SECRET,
    )
    assert rotated.returncode == 0, rotated.stderr
    assert (
        "2 signing keys, 1 authenticator-app secrets, 1 queued messages"
        in rotated.stdout
    )

    async def stored_mail(tx: Tx) -> bytes | None:
        row: bytes | None = await tx.session.scalar(
            select(MailRow.sealed).where(MailRow.id == queued)
        )
        return row

    sealed = run(database_url, stored_mail)
    assert sealed is not None
    now = clock.now()
    message = mail.unseal(
        mail_sealer((NEW_SECRET.encode(),)),
        mail.Queued(
            queued, "verify_email", sealed, created_at=now, next_attempt_at=now
        ),
    )
    assert message is not None
    assert message.to == address

    # the previous secret dropped: the same keys sign, the same app's codes pass
    new = start_server(secret_key=NEW_SECRET)
    with new.client() as http:
        assert kids(http) == before
        signed_in = sign_in(http, person.username, totp_secret)
        me = http.get(
            "/api/v1/me",
            headers={"Authorization": f"Bearer {signed_in['access_token']}"},
        )
        assert me.status_code == 200, me.text
        assert me.json()["username"] == person.username


def test_rotate_secret_needs_the_previous_secret(
    start_server: Callable[..., LiveServer], database_url: str, tmp_path: Path
) -> None:
    start_server().stop()  # keys made under SECRET
    result = admin(database_url, tmp_path, AUTHGATE_SECRET_KEY=SECRET)
    assert result.returncode == 1
    database, *error = result.stderr.strip().splitlines()
    assert database.startswith("Database: ")  # which one the command works on
    assert error == [
        "error: AUTHGATE_SECRET_KEY_PREVIOUS is not set: set it to the secret being "
        "replaced, and AUTHGATE_SECRET_KEY to the new one."
    ]
