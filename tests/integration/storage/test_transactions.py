from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import StatementError

from authgate.domain.audit import AuditEvent, AuditQuery
from authgate.storage.db import Database
from tests.integration.storage.factories import T0, add_user, session, user
from tests.support.asserts import present

pytestmark = pytest.mark.anyio


class Boom(Exception):
    pass


async def test_a_transaction_that_raises_keeps_nothing(db: Database) -> None:
    alice = user("alice")
    ses, ses_hash = session(alice.id)
    async with db.transaction() as tx:
        before = await tx.users.count()

    async def doomed() -> None:
        async with db.transaction() as tx:
            await tx.users.add(alice)
            await tx.sessions.add(ses, ses_hash)
            await tx.lockout.add_failure("alice", T0, timedelta(minutes=15))
            await tx.audit.add(AuditEvent(action="user.created", at=T0))
            assert await tx.users.get(alice.id) == alice  # visible inside
            raise Boom

    with pytest.raises(Boom):
        await doomed()
    async with db.transaction() as tx:
        assert await tx.users.count() == before
        assert await tx.users.get(alice.id) is None
        assert await tx.sessions.get(ses.id) is None
        assert await tx.audit.query(AuditQuery(action="user.created")) == []
        # the failure count starts again from nothing
        assert await tx.lockout.add_failure("alice", T0, timedelta(minutes=15)) == 1


async def test_a_committed_transaction_is_seen_by_the_next(db: Database) -> None:
    alice = user()
    async with db.transaction() as tx:
        await tx.users.add(alice)
    async with db.transaction() as tx:
        assert await tx.users.get(alice.id) == alice


async def test_invalidation_is_announced_only_after_commit(database_url: str) -> None:
    announced: list[list[str]] = []

    async def announce(tags: list[str]) -> None:
        announced.append(tags)

    database = Database(database_url, on_invalidate=announce)

    async def doomed() -> None:
        async with database.transaction() as tx:
            tx.invalidate("ses_rolled_back")
            raise Boom

    try:
        with pytest.raises(Boom):
            await doomed()
        assert announced == []
        async with database.transaction() as tx:
            tx.invalidate("ses_1", "usr_1")
            assert announced == []  # not before the commit
        assert announced == [["ses_1", "usr_1"]]
        async with database.transaction():
            pass
        assert announced == [["ses_1", "usr_1"]]  # nothing to announce
    finally:
        await database.close()


async def test_datetimes_round_trip_as_aware_utc(db: Database) -> None:
    ist = timezone(timedelta(hours=5, minutes=30))
    created = datetime(2031, 6, 7, 23, 45, 1, 123456, tzinfo=ist)
    alice = await add_user(db, created_at=created, disabled_at=T0)
    async with db.transaction() as tx:
        found = await tx.users.get(alice.id)
    assert found is not None
    for value in (found.created_at, present(found.disabled_at)):
        assert value.tzinfo is not None
        assert value.utcoffset() == timedelta(0)
    assert found.created_at == created  # the same instant, microseconds kept
    assert found.created_at.hour == 18  # 23:45 at +05:30 is 18:15 UTC
    assert found.created_at.tzinfo == UTC
    assert found.disabled_at == T0


async def test_comparisons_use_the_instant_not_the_wall_clock(db: Database) -> None:
    # 01:00 at +02:00 is 23:00 UTC the previous day: before T0's day, not after.
    plus_two = timezone(timedelta(hours=2))
    early = datetime(T0.year, T0.month, T0.day, 1, 0, tzinfo=plus_two)
    async with db.transaction() as tx:
        await tx.audit.add(AuditEvent(action="t.early", at=early))
        await tx.audit.add(AuditEvent(action="t.late", at=T0))
    day_start = datetime(T0.year, T0.month, T0.day, tzinfo=UTC)
    async with db.transaction() as tx:
        found = await tx.audit.query(AuditQuery(since=day_start))
    assert [e.action for e in found] == ["t.late"]


async def test_naive_datetimes_are_refused(db: Database) -> None:
    naive = datetime(2030, 1, 1, 12, 0)
    with pytest.raises(StatementError, match="naive datetime"):
        async with db.transaction() as tx:
            await tx.users.add(user(created_at=naive))
