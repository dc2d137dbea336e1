"""Lockout: the counter is per name, the lock lasts its duration."""

import pytest

from authgate.domain import lockout
from authgate.util import clock
from tests.support.memory import MemoryStores
from tests.unit.domain.conftest import LOCKOUT_POLICY

pytestmark = pytest.mark.anyio


async def test_the_last_allowed_failure_locks(stores: MemoryStores) -> None:
    results = [
        await lockout.record_failure(stores, LOCKOUT_POLICY, "alice")
        for _ in range(LOCKOUT_POLICY.max_attempts)
    ]
    assert results == [False] * (LOCKOUT_POLICY.max_attempts - 1) + [True]
    failures = await stores.lockout.find("alice")
    assert failures is not None
    assert failures.locked()
    assert await stores.lockout.find("bob") is None  # each name counts alone


async def test_the_lock_ends_after_its_duration(stores: MemoryStores) -> None:
    for _ in range(LOCKOUT_POLICY.max_attempts):
        await lockout.record_failure(stores, LOCKOUT_POLICY, "alice")
    clock.advance(LOCKOUT_POLICY.duration.total_seconds())
    failures = await stores.lockout.find("alice")
    assert failures is not None
    assert not failures.locked()


async def test_failures_spread_beyond_the_window_never_lock(
    stores: MemoryStores,
) -> None:
    for _ in range(LOCKOUT_POLICY.max_attempts * 2):
        assert not await lockout.record_failure(stores, LOCKOUT_POLICY, "alice")
        clock.advance(LOCKOUT_POLICY.duration.total_seconds())
