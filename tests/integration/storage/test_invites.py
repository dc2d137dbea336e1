from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from authgate.domain.invites import Invite
from authgate.storage.db import Database, Tx
from tests.integration.storage.factories import (
    T0,
    add_user,
    concurrently,
    invite,
)
from tests.support.asserts import present

pytestmark = pytest.mark.anyio


async def add_invite(db: Database, **fields: Any) -> tuple[Invite, str]:
    value, code_hash = invite(**fields)
    async with db.transaction() as tx:
        await tx.invites.add(value, code_hash)
    return value, code_hash


async def test_add_get_by_code_hash(db: Database) -> None:
    admin = await add_user(db, is_admin=True)
    value, code_hash = await add_invite(db, created_by=admin.id)
    async with db.transaction() as tx:
        assert await tx.invites.get(value.id) == value
        assert await tx.invites.by_code_hash(code_hash) == value
        assert await tx.invites.get("inv_missing") is None
        assert await tx.invites.by_code_hash("0" * 64) is None


async def test_never_expiring(db: Database) -> None:
    value, _ = await add_invite(db, expires_at=None)
    async with db.transaction() as tx:
        assert present(await tx.invites.get(value.id)).expires_at is None


async def test_all_newest_first(db: Database) -> None:
    old, _ = await add_invite(db, created_at=T0 - timedelta(days=1))
    new, _ = await add_invite(db, created_at=T0 + timedelta(days=1))
    mid, _ = await add_invite(db, created_at=T0)
    async with db.transaction() as tx:
        assert await tx.invites.all() == [new, mid, old]


async def test_mark_used_once(db: Database) -> None:
    first = await add_user(db)
    second = await add_user(db)
    value, _ = await add_invite(db)
    async with db.transaction() as tx:
        assert await tx.invites.mark_used(value.id, first.id, T0) is True
    async with db.transaction() as tx:
        assert await tx.invites.mark_used(value.id, second.id, T0) is False
        assert await tx.invites.get(value.id) == replace(
            value, used_at=T0, used_by=first.id
        )


async def test_concurrent_mark_used_exactly_one_wins(db: Database) -> None:
    racers = [await add_user(db) for _ in range(2)]
    value, _ = await add_invite(db)
    ids = iter(r.id for r in racers)

    async def use(tx: Tx) -> bool:
        return await tx.invites.mark_used(value.id, next(ids), T0)

    assert sorted(await concurrently(db, 2, use)) == [False, True]
    async with db.transaction() as tx:
        assert present(await tx.invites.get(value.id)).used_by in {r.id for r in racers}


async def test_revoked_cannot_be_used_and_used_cannot_be_revoked(db: Database) -> None:
    alice = await add_user(db)
    revoked, _ = await add_invite(db)
    used, _ = await add_invite(db)
    async with db.transaction() as tx:
        assert await tx.invites.revoke(revoked.id, T0) is True
        assert await tx.invites.revoke(revoked.id, T0) is False
        assert await tx.invites.mark_used(revoked.id, alice.id, T0) is False
        assert await tx.invites.mark_used(used.id, alice.id, T0) is True
        assert await tx.invites.revoke(used.id, T0) is False
    async with db.transaction() as tx:
        assert present(await tx.invites.get(revoked.id)).revoked_at == T0
        assert present(await tx.invites.get(used.id)).revoked_at is None
