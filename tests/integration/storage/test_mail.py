"""Conformance of ``MailStore`` on every database: racing claims share the
due messages out, each to one of them."""

from datetime import timedelta

import pytest

from authgate.domain.mail import Queued
from authgate.storage.db import Database, Tx
from authgate.util.ids import new_id
from tests.integration.storage.factories import T0, concurrently

pytestmark = pytest.mark.anyio

HOUR = timedelta(hours=1)


async def test_racing_claims_never_take_one_message_twice(db: Database) -> None:
    ids = [new_id("msg") for _ in range(6)]
    async with db.transaction() as tx:
        for message_id in ids:
            await tx.mail.add(Queued(message_id, "test", b"sealed", T0, T0))

    async def claim(tx: Tx) -> list[str]:
        return [queued.id for queued in await tx.mail.claim(T0, T0 + HOUR, 10)]

    claimed = await concurrently(db, 4, claim)
    taken = [message_id for one in claimed for message_id in one]
    assert sorted(taken) == sorted(ids)
