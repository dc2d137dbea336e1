"""A login's argon2 check runs with no database transaction open, so while one
is being computed other requests still read and write (on SQLite a write
transaction holds the database's write lock; holding it through a ~40 ms hash
serialised every login and every write behind it)."""

import asyncio
import threading
import time
from typing import Any

from tests.support.actions import PASSWORD

LOGIN = "/api/v1/auth/login"


class GatedHasher:
    """The server's hasher, with ``verify`` held until the test opens the gate."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.entered = threading.Event()
        self.gate = threading.Event()

    async def verify(self, password_hash: str | None, password: str) -> bool:
        self.entered.set()
        await asyncio.to_thread(self.gate.wait, 30)
        return bool(await self.inner.verify(password_hash, password))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_writes_proceed_while_a_password_is_being_checked(server, actions, client):
    admin = actions.admin()
    services = server.app.state.services
    gated = GatedHasher(services.hasher)
    services.hasher = gated
    answers: list[Any] = []

    def sign_in() -> None:
        with server.client() as http:
            answers.append(
                http.post(
                    LOGIN, json={"username": admin.username, "password": PASSWORD}
                )
            )

    pending = threading.Thread(target=sign_in)
    pending.start()
    try:
        assert gated.entered.wait(10), "the login never reached its password check"
        started = time.monotonic()
        invite = client.post(
            "/api/v1/admin/invites", headers=admin.bearer, json={}, timeout=10
        )
        me = client.get("/api/v1/me", headers=admin.bearer, timeout=10)
        assert time.monotonic() - started < 5
        assert invite.status_code == 201, invite.text
        assert me.status_code == 200, me.text
        assert not answers, "the login finished before its check was released"
    finally:
        gated.gate.set()
        pending.join(30)
        services.hasher = gated.inner
    assert answers[0].status_code == 200, answers[0].text
