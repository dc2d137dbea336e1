"""Every request that checks or hashes a password does it with no database
transaction open, so while one is being computed other requests still read
and write. On SQLite a write transaction holds the database's write lock;
holding it through a ~40 ms argon2 call serialised every write behind it, and
a signed-in caller could hold it at will with wrong passwords."""

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.support.actions import PASSWORD, Actions, Login
from tests.support.live import LiveServer
from tests.support.pages import signed_in

NEW_PASSWORD = "a brand new passphrase 42"


class GatedHasher:
    """The server's hasher, with ``verify`` and ``hash`` held until the test
    opens the gate."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.entered = threading.Event()
        self.gate = threading.Event()

    async def _held(self) -> None:
        self.entered.set()
        await asyncio.to_thread(self.gate.wait, 30)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        await self._held()
        return bool(await self.inner.verify(password_hash, password))

    async def hash(self, password: str) -> str:
        await self._held()
        return str(await self.inner.hash(password))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


Request = Callable[[httpx.Client], httpx.Response]


def login(server: LiveServer, actions: Actions, admin: Login) -> Request:
    body = {"username": admin.username, "password": PASSWORD}
    return lambda http: http.post("/api/v1/auth/login", json=body)


def recovery_key(server: LiveServer, actions: Actions, admin: Login) -> Request:
    return lambda http: http.post(
        "/api/v1/recovery-key", headers=admin.bearer, json={"password": PASSWORD}
    )


def a_user_id(actions: Actions) -> str:
    target = actions.user()
    return str(actions.client.get("/api/v1/me", headers=target.bearer).json()["id"])


def admin_reset(server: LiveServer, actions: Actions, admin: Login) -> Request:
    path = f"/api/v1/admin/users/{a_user_id(actions)}/reset-password"
    return lambda http: http.post(
        path, headers=admin.bearer, json={"new_password": NEW_PASSWORD}
    )


def form(
    server: LiveServer, actions: Actions, admin: Login, path: str, **fields: str
) -> Request:
    """A signed-in browser's form post."""

    def post(http: httpx.Client) -> httpx.Response:
        token = signed_in(actions, http, admin)
        return http.post(
            path, data={"csrf_token": token, **fields}, headers={"Origin": server.url}
        )

    return post


def console_reset(server: LiveServer, actions: Actions, admin: Login) -> Request:
    path = f"/admin/users/{a_user_id(actions)}/password"
    return form(server, actions, admin, path, password=NEW_PASSWORD)


def settings_password(server: LiveServer, actions: Actions, admin: Login) -> Request:
    return form(
        server,
        actions,
        admin,
        "/settings/profile/password",
        current_password=PASSWORD,
        new_password=NEW_PASSWORD,
        confirm_password=NEW_PASSWORD,
    )


def settings_recovery_key(
    server: LiveServer, actions: Actions, admin: Login
) -> Request:
    path = "/settings/security/recovery-key"
    return form(server, actions, admin, path, password=PASSWORD)


@pytest.mark.parametrize(
    ("request_", "status"),
    [
        (login, 200),
        (recovery_key, 201),
        (admin_reset, 204),
        (console_reset, 303),
        (settings_password, 303),
        (settings_recovery_key, 200),
    ],
    ids=[
        "login",
        "recovery-key",
        "admin-reset-password",
        "console-reset-password",
        "settings-password",
        "settings-recovery-key",
    ],
)
def test_writes_proceed_while_a_password_is_being_checked(
    server: LiveServer,
    actions: Actions,
    client: httpx.Client,
    request_: Callable[[LiveServer, Actions, Login], Request],
    status: int,
) -> None:
    admin = actions.admin()
    send = request_(server, actions, admin)
    services = server.app.state.services
    gated = GatedHasher(services.hasher)
    services.hasher = gated
    answers: list[Any] = []

    def pending_request() -> None:
        with server.client() as http:
            answers.append(send(http))

    pending = threading.Thread(target=pending_request)
    pending.start()
    try:
        assert gated.entered.wait(10), "the request never reached its password"
        started = time.monotonic()
        invite = client.post(
            "/api/v1/admin/invites", headers=admin.bearer, json={}, timeout=10
        )
        me = client.get("/api/v1/me", headers=admin.bearer, timeout=10)
        assert time.monotonic() - started < 5
        assert invite.status_code == 201, invite.text
        assert me.status_code == 200, me.text
        assert not answers, "the request finished before its check was released"
    finally:
        gated.gate.set()
        pending.join(30)
        services.hasher = gated.inner
    assert answers[0].status_code == status, answers[0].text
