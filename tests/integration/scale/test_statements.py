"""What the busiest writes send the database: a password sign-in, both refresh
endpoints and the client credentials grant, each on a live server.

Every statement, transaction boundary and connection check is one round trip
to PostgreSQL (and CPU in this process on either database), so the list each
request sends is pinned here: a second read of a row, a SELECT before an
UPDATE, a pool ping or an ORM flush shows up as a failure, not as a slower
benchmark. PostgreSQL's list is what reaches the server (asyncpg's own log
for ``BEGIN``/``COMMIT``/pings, SQLAlchemy's for the statements); SQLite's is
what SQLAlchemy runs.
"""

import asyncio
import base64
import hashlib
import re
import secrets
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from authgate.server import fanout, mail_sender
from tests.support.actions import PASSWORD, Actions
from tests.support.live import LiveServer
from tests.support.oauth import Browser, query

_TABLE = re.compile(
    r"^(?:(UPDATE)|(SELECT|INSERT|DELETE)\b.*?\b(?:FROM|INTO))\s+\"?(\w+)",
    re.IGNORECASE | re.DOTALL,
)


def _summary(statement: str) -> str:
    """``SELECT users``, ``INSERT audit_log``, ``BEGIN``, ``PING``…"""
    text = statement.strip().rstrip(";").strip()
    if not text:
        return "PING"
    found = _TABLE.match(text)
    if found:
        return f"{(found.group(1) or found.group(2)).upper()} {found.group(3)}"
    return text.split()[0].upper()


_BOUNDARIES = {"BEGIN", "BEGIN (read)", "COMMIT", "ROLLBACK", "PING"}


class Sent:
    """The statements in order; transaction boundaries and pings counted
    (asyncpg reports those a moment later, out of order)."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.round_trips: Counter[str] = Counter()

    def add(self, summary: str) -> None:
        if summary in _BOUNDARIES:
            self.round_trips[summary] += 1
        else:
            self.statements.append(summary)

    def __repr__(self) -> str:
        return f"{self.statements} {dict(self.round_trips)}"


class Recorder:
    """What one server sends its database while :meth:`recording`."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        db = server.app.state.services.db
        self.postgresql = db.engine.dialect.name == "postgresql"
        self.sent = Sent()
        self.on = False
        self._listen(db.engine.sync_engine, "BEGIN")
        # PostgreSQL's reads run in autocommit: no BEGIN, no COMMIT at all.
        self._listen(db.read_engine.sync_engine, "BEGIN (read)")

    def _listen(self, engine: Engine, begin: str) -> None:
        def statement(*args: Any) -> None:
            self.note(args[2])

        event.listen(engine, "before_cursor_execute", statement)
        if self.postgresql:
            # What asyncpg sends outside prepared statements: the transaction
            # boundaries and any ping, seen on every connection of the pool.
            def logged(record: Any) -> None:
                self.note(record.query)

            def attach(dbapi_connection: Any, *_: Any) -> None:
                dbapi_connection.driver_connection.add_query_logger(logged)

            event.listen(engine.pool, "connect", attach)
            event.listen(engine.pool, "checkout", attach)
        else:
            event.listen(engine, "begin", lambda _c: self.mark(begin))
            event.listen(engine, "commit", lambda _c: self.mark("COMMIT"))
            event.listen(engine, "rollback", lambda _c: self.mark("ROLLBACK"))

    def note(self, statement: str) -> None:
        self.mark(_summary(statement))

    def mark(self, summary: str) -> None:
        if self.on:
            self.sent.add(summary)

    def settle(self) -> None:
        """Let the server's loop run what asyncpg's log scheduled."""
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0), self.server.loop).result()

    @contextmanager
    def recording(self) -> Iterator[Sent]:
        self.settle()
        self.sent = Sent()
        self.on = True
        try:
            yield self.sent
        finally:
            self.settle()
            self.on = False


@pytest.fixture
def server(
    start_server: Callable[..., LiveServer], monkeypatch: pytest.MonkeyPatch
) -> LiveServer:
    """A server whose invalidation feed and mail sender do not poll in the
    background (these requests revoke nothing and mail nothing, so nothing
    wakes them either)."""
    monkeypatch.setattr(fanout, "POLL_SECONDS", 3600)
    monkeypatch.setattr(mail_sender, "POLL", 3600)
    return start_server()


@pytest.fixture
def recorder(server: LiveServer) -> Recorder:
    return Recorder(server)


#: One transaction, and no ping: a connection is checked without a round trip.
ONE_TRANSACTION = Counter({"BEGIN": 1, "COMMIT": 1})
#: One read: on SQLite a transaction that takes no lock, on PostgreSQL a
#: statement in autocommit.
ONE_READ = {True: Counter(), False: Counter({"BEGIN (read)": 1, "ROLLBACK": 1})}


def twice(recorder: Recorder, request: Callable[[], httpx.Response]) -> Sent:
    """What the second of two like requests sent (the first fills the pool
    and the caches)."""
    assert request().status_code == 200
    with recorder.recording() as sent:
        response = request()
    assert response.status_code == 200, response.text
    print(sent)  # noqa: T201
    return sent


def test_client_credentials(
    server: LiveServer, actions: Actions, recorder: Recorder
) -> None:
    actions.admin()
    made = actions.make_client(grant_types=["client_credentials"], scope="read")
    basic = base64.b64encode(
        f"{made['client_id']}:{made['client_secret']}".encode()
    ).decode()
    with server.client() as http:
        sent = twice(
            recorder,
            lambda: http.post(
                "/oauth/token",
                data={"grant_type": "client_credentials", "scope": "read"},
                headers={"Authorization": f"Basic {basic}"},
            ),
        )
    # The client is known from the first request (``Server.clients``).
    assert sent.statements == []
    assert sent.round_trips == Counter()


def test_login(server: LiveServer, actions: Actions, recorder: Recorder) -> None:
    alice = actions.user()

    def login() -> httpx.Response:
        with server.client() as http:  # no cookie from the last sign-in
            return http.post(
                "/api/v1/auth/login",
                json={"username": alice.username, "password": PASSWORD},
            )

    sent = twice(recorder, login)
    assert sent.statements == [
        "SELECT users",
        # Whether a second step is due (domain.factors.has_factor): an account
        # with no app finds no passkey either.
        "SELECT totp_factors",
        "SELECT passkeys",
        "SELECT users",
        "SELECT login_failures",
        "INSERT sessions",
        "INSERT audit_events",
        # Whether the device or place is new to the account (domain.notices:
        # one indexed read of its latest sessions, when the notice is on).
        "SELECT sessions",
        "INSERT refresh_tokens",
    ]
    # The look-up before argon2 is a read: on PostgreSQL a statement in
    # autocommit, on SQLite a deferred transaction that takes no lock.
    assert sent.round_trips == ONE_READ[recorder.postgresql] + ONE_TRANSACTION


def test_refresh_api(server: LiveServer, actions: Actions, recorder: Recorder) -> None:
    token = actions.user().refresh_token

    def refresh() -> httpx.Response:
        nonlocal token
        with server.client() as http:
            response = http.post("/api/v1/auth/refresh", json={"refresh_token": token})
        token = response.json().get("refresh_token", token)
        return response

    sent = twice(recorder, refresh)
    # The token with its user and session, in one statement
    # (``storage/prefetched.py``).
    assert sent.statements == [
        "SELECT refresh_tokens",
        "UPDATE refresh_tokens",
        "INSERT refresh_tokens",
    ]
    assert sent.round_trips == ONE_TRANSACTION


def test_refresh_oauth(
    server: LiveServer, actions: Actions, recorder: Recorder
) -> None:
    alice = actions.user()
    redirect_uri = "http://127.0.0.1:9/callback"
    client_id = actions.make_client(
        public=True,
        redirect_uris=[redirect_uri],
        grant_types=["authorization_code", "refresh_token"],
    )["client_id"]
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": "read write",
        "state": "s",
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    with Browser(server.url, alice) as browser:
        code = query(browser.authorize(f"/oauth/authorize?{urlencode(params)}"))
    with server.client() as http:
        issued = http.post(
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": code["code"],
                "redirect_uri": redirect_uri,
                "client_id": client_id,
                "code_verifier": verifier,
            },
        )
        token = issued.json()["refresh_token"]

        def refresh() -> httpx.Response:
            nonlocal token
            response = http.post(
                "/oauth/token",
                data={
                    "grant_type": "refresh_token",
                    "client_id": client_id,
                    "refresh_token": token,
                },
            )
            token = response.json().get("refresh_token", token)
            return response

        sent = twice(recorder, refresh)
    # The client is known from the first refresh (``Server.clients``).
    assert sent.statements == [
        "SELECT refresh_tokens",
        "UPDATE refresh_tokens",
        "INSERT refresh_tokens",
    ]
    assert sent.round_trips == ONE_TRANSACTION
