"""Whether a token is revoked, from memory when surely not: an id neither in
force when the filter loaded nor invalidated since costs no database read."""

from datetime import timedelta

import pytest

from authgate.domain import revocations
from authgate.server.revocation_filter import RevocationFilter
from authgate.util import clock
from tests.support.memory import MemoryDatabase

pytestmark = pytest.mark.anyio

TTL = timedelta(minutes=15)


async def revoke(db: MemoryDatabase, *ids: str) -> None:
    await revocations.revoke(db.stores, *ids, until=clock.now() + TTL)


async def test_before_it_loads_every_check_reads() -> None:
    db = MemoryDatabase()
    ids = RevocationFilter(db)  # type: ignore[arg-type]
    await revoke(db, "gr_1")
    assert await ids.is_revoked(["at_1", "gr_1"])
    assert not await ids.is_revoked(["at_2"])
    assert db.reads == 2


async def test_loaded_it_reads_only_for_ids_it_knows() -> None:
    db = MemoryDatabase()
    ids = RevocationFilter(db)  # type: ignore[arg-type]
    await revoke(db, "gr_1")
    await ids.load()
    loaded = db.reads
    assert not await ids.is_revoked(["at_1", "gr_2", "cl_1"])
    assert db.reads == loaded  # none of them can be revoked
    assert await ids.is_revoked(["at_1", "gr_1"])  # in force at the load
    await revoke(db, "at_3")
    ids.saw(["at_3", "ses_1"])  # the feed brings what was revoked since
    assert await ids.is_revoked(["at_3"])
    assert not await ids.is_revoked(["ses_1"])  # invalidated, not revoked
    assert db.reads == loaded + 3


async def test_too_many_ids_seen_loads_again() -> None:
    db = MemoryDatabase()
    ids = RevocationFilter(db, max_seen=3)  # type: ignore[arg-type]
    await ids.load()
    await revoke(db, "gr_1")
    ids.saw(["gr_1", "ses_1", "ses_2"])
    loaded = db.reads
    assert await ids.is_revoked(["gr_1"])  # the load, then the check
    assert db.reads == loaded + 2
    assert not await ids.is_revoked(["ses_1", "ses_2"])  # forgotten: not in force
    assert db.reads == loaded + 2


async def test_ids_seen_while_it_loads_are_kept() -> None:
    db = MemoryDatabase()
    ids = RevocationFilter(db)  # type: ignore[arg-type]
    await ids.load()
    ids.saw(["ses_before"])
    # Revoked and fanned out while the load reads: not in what it read.
    db.during_read = lambda: ids.saw(["at_during"])
    await ids.load()
    db.during_read = None
    await revoke(db, "at_during")
    loaded = db.reads
    assert await ids.is_revoked(["at_during"])
    assert not await ids.is_revoked(["ses_before"])
    assert db.reads == loaded + 1
