"""Queued mail: sealed at rest, opened only under its key and for its row."""

from dataclasses import replace

import pytest

from authgate.domain import mail
from authgate.domain.sealing import Sealer
from tests.support.memory import MemoryStores

pytestmark = pytest.mark.anyio

SEALER = Sealer(b"m" * 32)


async def test_a_message_is_queued_sealed_and_opens_as_it_was() -> None:
    stores = MemoryStores()
    message = mail.Message(
        "ada@example.com", "verify_email", {"link": "https://x/verify?token=s3cret"}
    )
    message_id = await mail.queue(stores, SEALER, message)
    [queued] = stores.mail.rows
    assert queued.id == message_id
    assert queued.template == "verify_email"
    assert queued.sealed is not None
    assert b"s3cret" not in queued.sealed
    assert b"ada@example.com" not in queued.sealed
    assert queued.attempts == 0
    assert queued.next_attempt_at == queued.created_at
    assert mail.unseal(SEALER, queued) == message


async def test_a_row_opens_only_under_its_key_and_as_itself() -> None:
    stores = MemoryStores()
    await mail.queue(stores, SEALER, mail.Message("a@example.com", "t", {}))
    await mail.queue(stores, SEALER, mail.Message("b@example.com", "t", {}))
    first, second = stores.mail.rows
    assert mail.unseal(Sealer(b"x" * 32), first) is None
    assert mail.unseal(SEALER, replace(first, sealed=second.sealed)) is None
    assert mail.unseal(SEALER, replace(first, sealed=None)) is None
