"""Single-use values: accepted once, forgotten when they could expire anyway."""

from datetime import timedelta

import pytest

from authgate.domain import replay
from authgate.util import clock
from tests.support.memory import MemoryStores

pytestmark = pytest.mark.anyio


async def test_a_value_is_accepted_once(stores: MemoryStores) -> None:
    until = clock.now() + timedelta(minutes=10)
    assert await replay.use_once(stores, "state-1", until) is True
    assert await replay.use_once(stores, "state-1", until) is False
    assert await replay.use_once(stores, "state-2", until) is True
    assert "state-1" not in stores.replay.rows  # only a digest is kept


async def test_an_expired_value_is_forgotten(stores: MemoryStores) -> None:
    until = clock.now() + timedelta(minutes=10)
    await replay.use_once(stores, "state-1", until)
    clock.advance(timedelta(minutes=11).total_seconds())
    await replay.use_once(stores, "other", clock.now() + timedelta(minutes=10))
    assert len(stores.replay.rows) == 1
