"""Authenticator apps (RFC 6238): enrolment, skew, single use, sealing."""

from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import pytest

from authgate.domain import audit, totp
from authgate.domain.sealing import Sealer
from authgate.errors import Conflict, InvalidRequest
from tests.support.memory import MemoryStores
from tests.support.totp import at_step_start, code
from tests.unit.domain.conftest import PEER

pytestmark = pytest.mark.anyio

SEALER = Sealer(b"k" * 32)


async def enrol(stores: MemoryStores, user_id: str = "usr_a") -> str:
    started = await totp.begin(
        stores, SEALER, user_id=user_id, account="alice", issuer="Authgate"
    )
    return started.secret


async def enrolled(stores: MemoryStores, user_id: str = "usr_a") -> str:
    at_step_start()
    secret = await enrol(stores, user_id)
    await totp.confirm(
        stores, SEALER, user_id=user_id, code=code(secret, -1), peer=PEER
    )
    return secret


async def test_a_new_secret_is_160_bits_sealed_for_its_user() -> None:
    stores = MemoryStores()
    started = await totp.begin(
        stores, SEALER, user_id="usr_a", account="alice", issuer="Authgate"
    )
    assert len(started.secret) == 32  # base32: 160 bits
    uri = urlsplit(started.uri)
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert parse_qs(uri.query)["secret"] == [started.secret]
    stored = stores.totp.rows["usr_a"]
    assert started.secret.encode() not in stored.sealed_secret
    assert SEALER.open(stored.sealed_secret, b"authgate/totp/usr_a") is not None
    assert SEALER.open(stored.sealed_secret, b"authgate/totp/usr_b") is None
    assert not stored.confirmed


async def test_confirming_needs_a_right_code_then_uses_it() -> None:
    stores = MemoryStores()
    at_step_start()
    secret = await enrol(stores)
    with pytest.raises(InvalidRequest):
        await totp.confirm(stores, SEALER, user_id="usr_a", code="000000", peer=PEER)
    assert not stores.totp.rows["usr_a"].confirmed
    await totp.confirm(stores, SEALER, user_id="usr_a", code=code(secret), peer=PEER)
    assert stores.totp.rows["usr_a"].confirmed
    assert [e.action for e in stores.audit.events] == [audit.Action.FACTOR_ENROLLED]
    # The confirming code was used: it does not sign anyone in afterwards.
    assert not await totp.check(stores, SEALER, user_id="usr_a", code=code(secret))


async def test_confirming_without_a_pending_enrolment_is_refused() -> None:
    with pytest.raises(InvalidRequest):
        await totp.confirm(
            MemoryStores(), SEALER, user_id="usr_a", code="123456", peer=PEER
        )


async def test_starting_again_replaces_an_unconfirmed_secret_only() -> None:
    stores = MemoryStores()
    first = await enrol(stores)
    second = await enrol(stores)
    assert first != second
    await totp.confirm(stores, SEALER, user_id="usr_a", code=code(second), peer=PEER)
    with pytest.raises(Conflict):
        await enrol(stores)


@pytest.mark.parametrize("steps", [-1, 0, 1])
async def test_one_step_of_skew_either_way_is_accepted(steps: int) -> None:
    stores = MemoryStores()
    secret = await enrolled(stores)
    # As if no code had been used yet (the confirming one was the step before).
    stores.totp.rows["usr_a"] = replace(stores.totp.rows["usr_a"], last_step=None)
    assert await totp.check(stores, SEALER, user_id="usr_a", code=code(secret, steps))


@pytest.mark.parametrize("steps", [-2, 2])
async def test_two_steps_away_is_refused(steps: int) -> None:
    stores = MemoryStores()
    secret = await enrolled(stores)
    assert not await totp.check(
        stores, SEALER, user_id="usr_a", code=code(secret, steps)
    )


async def test_a_code_is_accepted_once_and_earlier_ones_never_after() -> None:
    stores = MemoryStores()
    secret = await enrolled(stores)  # confirmed with the previous step's code
    now = code(secret)
    assert await totp.check(stores, SEALER, user_id="usr_a", code=now)
    assert not await totp.check(stores, SEALER, user_id="usr_a", code=now)
    assert not await totp.check(stores, SEALER, user_id="usr_a", code=code(secret, -1))
    assert await totp.check(stores, SEALER, user_id="usr_a", code=code(secret, 1))


@pytest.mark.parametrize(
    "typed", ["12345", "1234567", "12345a", "", "\uff11\uff12\uff13\uff14\uff15\uff16"]
)
async def test_malformed_codes_are_refused(typed: str) -> None:
    stores = MemoryStores()
    await enrolled(stores)
    assert not await totp.check(stores, SEALER, user_id="usr_a", code=typed)


async def test_spaces_in_a_code_are_ignored() -> None:
    stores = MemoryStores()
    secret = await enrolled(stores)
    typed = code(secret)
    assert await totp.check(
        stores, SEALER, user_id="usr_a", code=f" {typed[:3]} {typed[3:]} "
    )


async def test_an_unconfirmed_secret_signs_no_one_in() -> None:
    stores = MemoryStores()
    secret = await enrol(stores)
    assert not await totp.check(stores, SEALER, user_id="usr_a", code=code(secret))


async def test_a_secret_under_another_key_opens_nothing() -> None:
    stores = MemoryStores()
    secret = await enrolled(stores)
    other = Sealer(b"o" * 32)
    assert not await totp.check(stores, other, user_id="usr_a", code=code(secret, 1))


async def test_removal_is_audited_and_ends_the_factor() -> None:
    stores = MemoryStores()
    secret = await enrolled(stores)
    assert await totp.remove(stores, user_id="usr_a", actor_id="usr_a", peer=PEER)
    assert not await totp.remove(stores, user_id="usr_a", actor_id="usr_a", peer=PEER)
    assert stores.audit.events[-1].action == audit.Action.FACTOR_REMOVED
    assert not await totp.check(stores, SEALER, user_id="usr_a", code=code(secret, 1))
