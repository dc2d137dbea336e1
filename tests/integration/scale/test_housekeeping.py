"""The housekeeping job on each database: it deletes what expired and keeps
what lives, applies the audit retention, and on PostgreSQL never runs on two
instances at once."""

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest

from authgate.domain.audit import AuditEvent, AuditQuery
from authgate.domain.housekeeping import GRACE, Policy
from authgate.server import housekeeping
from authgate.storage.db import Database
from authgate.util import clock
from tests.conftest import MakeSettings
from tests.integration.storage.factories import refresh_token, session, user
from tests.support.actions import Actions
from tests.support.live import LiveServer

anyio = pytest.mark.anyio

#: Far enough for every row made now to stop mattering (the refresh families'
#: 90-day cap being the longest rule).
LATER = timedelta(days=92) + GRACE


@pytest.fixture
def rules(make_settings: MakeSettings) -> Policy:
    return housekeeping.policy(make_settings())


async def make_rows(db: Database) -> dict[str, str]:
    """One row of each kind that expires, made now; their ids or hashes."""
    now = clock.now()
    async with db.transaction() as tx:
        alice = user(created_at=now)
        await tx.users.add(alice)
        started, session_hash = session(
            alice.id, created_at=now, last_active_at=now, expires_at=now + GRACE
        )
        await tx.sessions.add(started, session_hash)
        token, token_hash = refresh_token(
            alice.id,
            client_id="cl_app",
            created_at=now,
            expires_at=now + GRACE,
            family_created_at=now,
        )
        await tx.refresh_tokens.add(token, token_hash)
        await tx.lockout.add_failure(alice.username, now, timedelta(minutes=15))
        await tx.replay.claim("d" * 64, now + timedelta(minutes=10))
        await tx.revocations.add("gr_" + alice.id, now + timedelta(minutes=15))
        tx.invalidate("ses_" + alice.id)
    return {
        "session": started.id,
        "refresh_token": token_hash,
        "username": alice.username,
    }


async def still_there(db: Database, made: dict[str, str]) -> list[bool]:
    async with db.read() as tx:
        return [
            await tx.sessions.get(made["session"]) is not None,
            await tx.refresh_tokens.by_hash(made["refresh_token"]) is not None,
            await tx.lockout.find(made["username"]) is not None,
        ]


@anyio
async def test_the_job_deletes_what_expired_and_keeps_what_lives(
    db: Database, rules: Policy
) -> None:
    old = await make_rows(db)
    counts = await housekeeping.run(db, rules)
    assert counts is not None
    assert set(counts.values()) == {0}, counts
    assert await still_there(db, old) == [True, True, True]

    clock.advance(LATER.total_seconds())
    live = await make_rows(db)
    counts = await housekeeping.run(db, rules)
    assert counts is not None
    assert {
        "sessions": 1,
        "refresh_tokens": 1,
        "login_failures": 1,
        "used_values": 1,
        "revocations": 1,
        "invalidations": 1,
    }.items() <= counts.items()
    assert await still_there(db, old) == [False, False, False]
    assert await still_there(db, live) == [True, True, True]


@anyio
async def test_batches_until_nothing_is_left(db: Database, rules: Policy) -> None:
    for _ in range(5):
        await make_rows(db)
    clock.advance(LATER.total_seconds())
    counts = await housekeeping.run(db, rules, limit=2)
    assert counts is not None
    assert (counts["sessions"], counts["login_failures"]) == (5, 5)


async def audit_at(db: Database, *ages: timedelta) -> None:
    async with db.transaction() as tx:
        for age in ages:
            await tx.audit.add(
                AuditEvent(action="login.succeeded", at=clock.now() - age)
            )


@anyio
async def test_audit_retention_deletes_only_older_events(
    db: Database, rules: Policy
) -> None:
    await audit_at(db, timedelta(days=40), timedelta(days=10))
    counts = await housekeeping.run(db, rules)
    assert counts is not None
    assert "audit_events" not in counts  # kept by default
    counts = await housekeeping.run(
        db, replace(rules, audit_retention=timedelta(days=30))
    )
    assert counts is not None
    assert counts["audit_events"] == 1
    async with db.read() as tx:
        (kept,) = await tx.audit.query(AuditQuery())
    assert clock.now() - kept.at < timedelta(days=30)


@anyio
@pytest.mark.parametrize(
    "database_url",
    [pytest.param("postgresql", marks=pytest.mark.postgres)],
    indirect=True,
)
async def test_two_instances_never_prune_at_once(
    database_url: str, db: Database, rules: Policy
) -> None:
    old = await make_rows(db)
    clock.advance(LATER.total_seconds())
    other = Database(database_url)
    try:
        async with db.transaction() as busy:
            # This instance is mid-batch: it holds the lock.
            assert await busy.exclusive(housekeeping.LOCK_KEY)
            assert await housekeeping.run(other, rules) is None
            assert await still_there(other, old) == [True, True, True]
        counts = await housekeeping.run(other, rules)
    finally:
        await other.close()
    assert counts is not None
    assert counts["sessions"] == 1


def sessions_of(database_url: str, user_id: str) -> int:
    async def count() -> int:
        database = Database(database_url)
        try:
            async with database.read() as tx:
                return len(await tx.sessions.list_for_user(user_id))
        finally:
            await database.close()

    return asyncio.run(count())


def test_a_running_server_prunes_on_its_interval(
    start_server: Callable[..., LiveServer], database_url: str
) -> None:
    server = start_server(housekeeping_interval=timedelta(seconds=0.2))
    with server.client() as http:
        login = Actions(http).admin()
        me = http.get("/api/v1/me", headers=login.bearer).json()
        assert sessions_of(database_url, me["id"]) == 1
        time.sleep(0.5)
        assert sessions_of(database_url, me["id"]) == 1  # alive: kept
        clock.advance(LATER.total_seconds())
        deadline = time.monotonic() + 5
        while sessions_of(database_url, me["id"]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sessions_of(database_url, me["id"]) == 0
