from datetime import timedelta

import pytest

from authgate.domain.lockout import Failures
from authgate.storage.db import Database, Tx
from tests.integration.storage.factories import T0, concurrently

pytestmark = pytest.mark.anyio

WINDOW = timedelta(minutes=15)


async def test_failures_count_up_within_the_window(db: Database) -> None:
    for expected in (1, 2, 3):
        async with db.transaction() as tx:
            now = T0 + timedelta(minutes=expected)
            assert await tx.lockout.add_failure("alice", now, WINDOW) == expected


async def test_keys_are_counted_apart(db: Database) -> None:
    async with db.transaction() as tx:
        assert await tx.lockout.add_failure("alice", T0, WINDOW) == 1
        assert await tx.lockout.add_failure("bob", T0, WINDOW) == 1
        assert await tx.lockout.add_failure("alice", T0, WINDOW) == 2


async def test_concurrent_failures_all_count(db: Database) -> None:
    async def fail(tx: Tx) -> int:
        return await tx.lockout.add_failure("target", T0, WINDOW)

    counts = await concurrently(db, 10, fail)
    assert sorted(counts) == list(range(1, 11))
    async with db.transaction() as tx:
        assert await tx.lockout.add_failure("target", T0, WINDOW) == 11


async def test_window_restarts_after_it_passes(db: Database) -> None:
    async with db.transaction() as tx:
        assert await tx.lockout.add_failure("alice", T0, WINDOW) == 1
        assert await tx.lockout.add_failure("alice", T0 + WINDOW / 2, WINDOW) == 2
    async with db.transaction() as tx:
        # measured from the window's start, not from the last failure
        later = T0 + WINDOW + timedelta(seconds=1)
        assert await tx.lockout.add_failure("alice", later, WINDOW) == 1
        assert await tx.lockout.add_failure("alice", later, WINDOW) == 2


async def test_lock_sets_until_and_restarts_the_count(db: Database) -> None:
    until = T0 + timedelta(minutes=15)
    async with db.transaction() as tx:
        assert await tx.lockout.find("alice") is None
        for _ in range(3):
            await tx.lockout.add_failure("alice", T0, WINDOW)
        assert await tx.lockout.find("alice") == Failures(locked_until=None)
        await tx.lockout.lock("alice", until)
    async with db.transaction() as tx:
        assert await tx.lockout.find("alice") == Failures(locked_until=until)
        assert await tx.lockout.add_failure("alice", T0, WINDOW) == 1
        assert await tx.lockout.find("bob") is None


async def test_clear_forgets_failures_and_lock(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.lockout.add_failure("alice", T0, WINDOW)
        await tx.lockout.add_failure("alice", T0, WINDOW)
        await tx.lockout.lock("alice", T0 + WINDOW)
        await tx.lockout.add_failure("bob", T0, WINDOW)
    async with db.transaction() as tx:
        await tx.lockout.clear("alice")
        await tx.lockout.clear("nobody")  # not an error
    async with db.transaction() as tx:
        assert await tx.lockout.find("alice") is None
        assert await tx.lockout.add_failure("alice", T0, WINDOW) == 1
        assert await tx.lockout.add_failure("bob", T0, WINDOW) == 2
