"""Recovery codes: ten, readable, stored as keyed digests, each used once."""

import math

import pytest

from authgate.domain import audit, recovery_codes
from authgate.domain.recovery_codes import Digester
from tests.support.memory import MemoryStores
from tests.unit.domain.conftest import PEER

pytestmark = pytest.mark.anyio

DIGEST = Digester(b"d" * 32)


async def issue(stores: MemoryStores, user_id: str = "usr_a") -> list[str]:
    return await recovery_codes.issue(
        stores, DIGEST, user_id=user_id, peer=PEER, first=True
    )


async def use(stores: MemoryStores, code: str, user_id: str = "usr_a") -> bool:
    return await recovery_codes.use(
        stores, DIGEST, user_id=user_id, code=code, peer=PEER
    )


async def test_ten_readable_codes_of_at_least_50_bits_only_digests_kept() -> None:
    stores = MemoryStores()
    codes = await issue(stores)
    assert len(set(codes)) == recovery_codes.COUNT == 10
    for code in codes:
        groups = code.split("-")
        assert [len(g) for g in groups] == [4, 4, 4]
        assert set("".join(groups)) <= set(recovery_codes.ALPHABET)
    assert not set(recovery_codes.ALPHABET) & set("01ilo")
    assert 12 * math.log2(len(recovery_codes.ALPHABET)) >= 50
    stored = {c.code_hash for c in stores.recovery_codes.rows.values()}
    assert len(stored) == 10
    assert not any(
        code in h or code.replace("-", "") in h for code in codes for h in stored
    )


async def test_a_code_works_once_whatever_its_case_or_spacing() -> None:
    stores = MemoryStores()
    first, second, *_ = await issue(stores)
    assert await use(stores, f"  {first.upper().replace('-', ' ')} ")
    assert not await use(stores, first)
    assert await use(stores, second.replace("-", ""))
    assert await recovery_codes.remaining(stores, "usr_a") == 8
    used = [
        e for e in stores.audit.events if e.action == audit.Action.RECOVERY_CODE_USED
    ]
    assert [e.details["remaining"] for e in used] == [9, 8]


async def test_a_code_works_only_for_its_own_account() -> None:
    stores = MemoryStores()
    mine = await issue(stores, "usr_a")
    await issue(stores, "usr_b")
    assert not await use(stores, mine[0], user_id="usr_b")
    assert await use(stores, mine[0], user_id="usr_a")


@pytest.mark.parametrize("typed", ["", "   ", "x" * 100, "aaaa-bbbb-cccc"])
async def test_anything_else_is_refused(typed: str) -> None:
    stores = MemoryStores()
    await issue(stores)
    assert not await use(stores, typed)


async def test_issuing_again_replaces_every_code_and_is_audited() -> None:
    stores = MemoryStores()
    old = await issue(stores)
    await use(stores, old[0])
    new = await recovery_codes.issue(
        stores, DIGEST, user_id="usr_a", peer=PEER, first=False
    )
    assert not set(old) & set(new)
    assert not await use(stores, old[1])
    assert await recovery_codes.remaining(stores, "usr_a") == 10
    assert stores.audit.events[-1].action == audit.Action.RECOVERY_CODES_REGENERATED


async def test_a_digest_under_another_key_matches_nothing() -> None:
    stores = MemoryStores()
    codes = await issue(stores)
    assert not await recovery_codes.use(
        stores, Digester(b"e" * 32), user_id="usr_a", code=codes[0], peer=PEER
    )


async def test_old_codes_work_while_the_previous_secret_is_kept() -> None:
    stores = MemoryStores()
    first, second, *_ = await issue(stores)  # under DIGEST's key
    rotating = Digester(b"n" * 32, b"d" * 32)
    assert await recovery_codes.use(
        stores, rotating, user_id="usr_a", code=first, peer=PEER
    )
    assert not await recovery_codes.use(
        stores, rotating, user_id="usr_a", code=first, peer=PEER
    )
    # once the previous key is dropped, they no longer match (docs/deployment.md)
    assert not await recovery_codes.use(
        stores, Digester(b"n" * 32), user_id="usr_a", code=second, peer=PEER
    )
