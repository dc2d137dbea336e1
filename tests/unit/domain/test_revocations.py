"""Revoked access-token ids: refused until they could have expired anyway."""

from datetime import timedelta

import pytest

from authgate.domain import revocations
from authgate.util import clock
from tests.support.memory import MemoryStores

pytestmark = pytest.mark.anyio

TTL = timedelta(minutes=15)


async def test_any_named_id_revokes(stores: MemoryStores) -> None:
    await revocations.revoke(stores, "gr_1", "", "gr_1", until=clock.now() + TTL)
    assert list(stores.revocations.rows) == ["gr_1"]
    assert "gr_1" in stores.invalidated  # cached verifications go too
    assert await revocations.is_revoked(stores, ["at_x", "gr_1"])
    assert not await revocations.is_revoked(stores, ["at_x", ""])
    assert not await revocations.is_revoked(stores, [])


async def test_a_record_ends_with_the_tokens_it_refuses(stores: MemoryStores) -> None:
    await revocations.revoke(stores, "gr_1", until=clock.now() + TTL)
    clock.advance(TTL.total_seconds())
    assert not await revocations.is_revoked(stores, ["gr_1"])
    clock.advance(1)
    await revocations.revoke(stores, "gr_2", until=clock.now() + TTL)
    assert list(stores.revocations.rows) == ["gr_2"]  # the old one pruned


async def test_in_force_names_what_is_refused_now(stores: MemoryStores) -> None:
    await revocations.revoke(stores, "gr_1", until=clock.now() + TTL)
    await revocations.revoke(stores, "at_2", until=clock.now() + 2 * TTL)
    assert sorted(await revocations.in_force(stores)) == ["at_2", "gr_1"]
    clock.advance(TTL.total_seconds())
    assert await revocations.in_force(stores) == ["at_2"]
