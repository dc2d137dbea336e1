"""Mailed single-use links: good once, for one purpose, until they expire or
a newer one is issued; only their digest is stored."""

from datetime import timedelta

import pytest

from authgate.domain import email_tokens
from authgate.domain.email_tokens import Purpose
from authgate.util import clock, tokens
from tests.support.memory import MemoryStores

pytestmark = pytest.mark.anyio

DAY = timedelta(days=1)


async def issue(
    stores: MemoryStores, user_id: str = "usr_a", purpose: Purpose = Purpose.VERIFY
) -> str:
    return await email_tokens.issue(
        stores, purpose, user_id, "ada@example.com", DAY, prefix="ag"
    )


async def test_a_token_is_stored_as_its_digest_and_used_once(
    stores: MemoryStores,
) -> None:
    secret = await issue(stores)
    assert secret.startswith("ag_evt_")
    assert list(stores.email_tokens.rows) == [tokens.digest(secret)]
    used = await email_tokens.use(stores, Purpose.VERIFY, secret)
    assert used is not None
    assert (used.user_id, used.email) == ("usr_a", "ada@example.com")
    assert used.used_at is not None
    assert await email_tokens.use(stores, Purpose.VERIFY, secret) is None


async def test_a_token_works_only_for_its_purpose(stores: MemoryStores) -> None:
    secret = await issue(stores, purpose=Purpose.RESET)
    assert await email_tokens.use(stores, Purpose.VERIFY, secret) is None
    assert await email_tokens.use(stores, Purpose.RESET, secret) is not None


async def test_an_expired_token_is_refused(stores: MemoryStores) -> None:
    secret = await issue(stores)
    clock.advance(DAY.total_seconds())
    assert await email_tokens.use(stores, Purpose.VERIFY, secret) is None


async def test_a_new_token_supersedes_the_older_unused_ones_of_its_purpose(
    stores: MemoryStores,
) -> None:
    old = await issue(stores)
    reset = await issue(stores, purpose=Purpose.RESET)
    someone_elses = await issue(stores, user_id="usr_b")
    new = await issue(stores)
    assert await email_tokens.use(stores, Purpose.VERIFY, old) is None
    assert await email_tokens.use(stores, Purpose.VERIFY, new) is not None
    assert await email_tokens.use(stores, Purpose.RESET, reset) is not None
    assert await email_tokens.use(stores, Purpose.VERIFY, someone_elses) is not None


@pytest.mark.parametrize(
    "forged",
    [
        "",
        "ag_evt_" + "A" * 49,  # the checksum fails
        "not a token",
    ],
)
async def test_a_malformed_or_made_up_token_is_refused(
    stores: MemoryStores, forged: str
) -> None:
    await issue(stores)
    assert await email_tokens.use(stores, Purpose.VERIFY, forged) is None
    assert not email_tokens.well_formed(forged)


async def test_another_kind_of_token_is_refused_before_any_lookup(
    stores: MemoryStores,
) -> None:
    session_token = tokens.mint("ag", "ses")
    assert not email_tokens.well_formed(session_token)
    assert await email_tokens.use(stores, Purpose.VERIFY, session_token) is None
