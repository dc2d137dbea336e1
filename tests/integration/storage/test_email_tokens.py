"""Conformance of ``EmailTokenStore`` on SQLite and PostgreSQL: of racing
uses of one mailed link, exactly one wins."""

from datetime import timedelta

import pytest

from authgate.domain.email_tokens import EmailToken, Purpose
from authgate.storage.db import Database, Tx
from tests.integration.storage.factories import T0, add_user, concurrently

pytestmark = pytest.mark.anyio


async def test_racing_uses_have_one_winner(db: Database) -> None:
    alice = await add_user(db, email="alice@example.com")
    async with db.transaction() as tx:
        await tx.email_tokens.add(
            EmailToken(
                digest="f" * 64,
                purpose=Purpose.VERIFY,
                user_id=alice.id,
                email="alice@example.com",
                created_at=T0,
                expires_at=T0 + timedelta(days=1),
            )
        )

    async def use(tx: Tx) -> bool:
        return await tx.email_tokens.use("f" * 64, Purpose.VERIFY, T0) is not None

    assert sorted(await concurrently(db, 4, use)) == [False, False, False, True]
