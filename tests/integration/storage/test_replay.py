"""Conformance of ``ReplayStore``: a digest is claimed once, even by racing
transactions, and forgotten after it expires."""

from datetime import timedelta

import pytest

from authgate.storage.db import Database, Tx
from tests.integration.storage.factories import T0, concurrently

pytestmark = pytest.mark.anyio


async def test_claimed_once(db: Database) -> None:
    async with db.transaction() as tx:
        assert await tx.replay.claim("d" * 64, T0) is True
        assert await tx.replay.claim("d" * 64, T0) is False
    async with db.transaction() as tx:
        assert await tx.replay.claim("d" * 64, T0) is False
        assert await tx.replay.claim("e" * 64, T0) is True


async def test_racing_claims_have_one_winner(db: Database) -> None:
    async def claim(tx: Tx) -> bool:
        return await tx.replay.claim("f" * 64, T0)

    results = await concurrently(db, 4, claim)
    assert sorted(results) == [False, False, False, True]


async def test_purge_forgets_only_expired_digests(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.replay.claim("1" * 64, T0)
        await tx.replay.claim("2" * 64, T0 + timedelta(minutes=10))
    async with db.transaction() as tx:
        assert await tx.replay.purge(T0 + timedelta(minutes=1)) == 1
    async with db.transaction() as tx:
        assert await tx.replay.claim("1" * 64, T0) is True  # forgotten
        assert await tx.replay.claim("2" * 64, T0) is False  # still known
