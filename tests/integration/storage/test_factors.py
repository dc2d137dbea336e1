"""Conformance of ``TotpStore`` and ``RecoveryCodeStore`` under racing
transactions: one code, used by two requests at once, passes once."""

import pytest

from authgate.domain.recovery_codes import RecoveryCode
from authgate.domain.totp import TotpFactor
from authgate.storage.db import Database, Tx
from authgate.util.ids import new_id
from tests.integration.storage.factories import T0, add_user, concurrently

pytestmark = pytest.mark.anyio


async def test_racing_uses_of_one_time_step_have_one_winner(db: Database) -> None:
    alice = await add_user(db)
    async with db.transaction() as tx:
        await tx.totp.put_unconfirmed(
            TotpFactor(user_id=alice.id, sealed_secret=b"s", created_at=T0)
        )
        await tx.totp.confirm(alice.id, T0, 100)

    async def use(tx: Tx) -> bool:
        return await tx.totp.use_step(alice.id, 101)

    assert sorted(await concurrently(db, 4, use)) == [False, False, False, True]
    async with db.read() as tx:
        found = await tx.totp.get(alice.id)
    assert found is not None
    assert found.last_step == 101


async def test_racing_uses_of_one_recovery_code_have_one_winner(db: Database) -> None:
    alice = await add_user(db)
    async with db.transaction() as tx:
        await tx.recovery_codes.replace(
            alice.id,
            [
                RecoveryCode(
                    id=new_id("rcc"), user_id=alice.id, code_hash="h", created_at=T0
                )
            ],
        )

    async def use(tx: Tx) -> bool:
        return await tx.recovery_codes.use(alice.id, "h", T0)

    assert sorted(await concurrently(db, 4, use)) == [False, False, False, True]


async def test_a_confirmed_factor_is_not_replaced_by_a_racing_enrolment(
    db: Database,
) -> None:
    alice = await add_user(db)
    async with db.transaction() as tx:
        await tx.totp.put_unconfirmed(
            TotpFactor(user_id=alice.id, sealed_secret=b"old", created_at=T0)
        )

    async def confirm(tx: Tx) -> bool:
        return await tx.totp.confirm(alice.id, T0, 1)

    assert sorted(await concurrently(db, 3, confirm)) == [False, False, True]
    async with db.transaction() as tx:
        assert not await tx.totp.put_unconfirmed(
            TotpFactor(user_id=alice.id, sealed_secret=b"new", created_at=T0)
        )
        found = await tx.totp.get(alice.id)
    assert found is not None
    assert found.sealed_secret == b"old"


async def test_racing_enrolments_leave_one_unconfirmed_factor(db: Database) -> None:
    alice = await add_user(db)

    async def begin(tx: Tx) -> bool:
        return await tx.totp.put_unconfirmed(
            TotpFactor(user_id=alice.id, sealed_secret=b"s", created_at=T0)
        )

    assert await concurrently(db, 3, begin) == [True, True, True]
    async with db.read() as tx:
        found = await tx.totp.get(alice.id)
    assert found is not None
    assert not found.confirmed
