"""Queued mail: sealed at rest, opened only under its key and for its row."""

from dataclasses import replace
from datetime import timedelta

import pytest

from authgate.domain import mail
from authgate.domain.sealing import Sealer
from authgate.util import clock
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


async def test_a_due_message_is_claimed_for_a_lease() -> None:
    stores = MemoryStores()
    await mail.queue(stores, SEALER, mail.Message("a@example.com", "t", {}))
    [claimed] = await mail.due(stores, 10, timedelta(minutes=5))
    assert await mail.due(stores, 10, timedelta(minutes=5)) == []
    clock.advance(5 * 60)
    assert [row.id for row in await mail.due(stores, 10, timedelta(minutes=5))] == [
        claimed.id
    ]


async def test_a_sent_message_is_never_due_again_and_its_content_goes() -> None:
    stores = MemoryStores()
    await mail.queue(stores, SEALER, mail.Message("a@example.com", "t", {}))
    [claimed] = await mail.due(stores, 10, timedelta(minutes=5))
    await mail.delivered(stores, claimed)
    [row] = stores.mail.rows
    assert row.sent_at is not None
    assert row.sealed is None
    clock.advance(24 * 3600)
    assert await mail.due(stores, 10, timedelta(minutes=5)) == []


def test_backoff_doubles_from_a_minute_up_to_an_hour() -> None:
    waits = [mail.backoff(n) for n in range(1, 10)]
    assert waits[:7] == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 60)]
    assert waits[7:] == [timedelta(hours=1)] * 2


async def test_failed_attempts_back_off_then_give_up() -> None:
    stores = MemoryStores()
    await mail.queue(stores, SEALER, mail.Message("a@example.com", "t", {}))
    for attempt in range(1, mail.MAX_ATTEMPTS):
        [claimed] = await mail.due(stores, 10, timedelta(minutes=5))
        assert claimed.attempts == attempt - 1
        before = clock.now()
        next_at = await mail.undelivered(stores, claimed, "refused " * 100)
        assert next_at is not None
        assert before + mail.backoff(attempt) <= next_at
        assert next_at <= clock.now() + mail.backoff(attempt)
        clock.advance(mail.backoff(attempt).total_seconds() - 1)
        assert await mail.due(stores, 10, timedelta(minutes=5)) == []
        clock.advance(1)
    [last] = await mail.due(stores, 10, timedelta(minutes=5))
    assert await mail.undelivered(stores, last, "refused") is None
    [row] = stores.mail.rows
    assert (row.attempts, row.sealed) == (mail.MAX_ATTEMPTS, None)
    assert row.failed_at is not None
    clock.advance(365 * 24 * 3600)
    assert await mail.due(stores, 10, timedelta(minutes=5)) == []


async def test_a_permanent_failure_gives_up_at_once_and_errors_are_cut() -> None:
    stores = MemoryStores()
    await mail.queue(stores, SEALER, mail.Message("a@example.com", "t", {}))
    [claimed] = await mail.due(stores, 10, timedelta(minutes=5))
    assert await mail.undelivered(stores, claimed, "x" * 900, permanent=True) is None
    [row] = stores.mail.rows
    assert row.failed_at is not None
    assert row.last_error == "x" * mail.ERROR_LENGTH
