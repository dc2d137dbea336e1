from dataclasses import replace
from datetime import timedelta

import pytest

from authgate.errors import Conflict
from tests.integration.storage.factories import T0, add_user, user

pytestmark = pytest.mark.anyio


async def test_add_then_get_and_by_username(db):
    alice = user("alice", email="alice@example.com", is_admin=True)
    async with db.transaction() as tx:
        await tx.users.add(alice)
    async with db.transaction() as tx:
        assert await tx.users.get(alice.id) == alice
        assert await tx.users.by_username("alice") == alice


async def test_missing(db):
    async with db.transaction() as tx:
        assert await tx.users.get("usr_missing") is None
        assert await tx.users.by_username("nobody") is None


async def test_count(db):
    async with db.transaction() as tx:
        before = await tx.users.count()
    await add_user(db)
    await add_user(db)
    async with db.transaction() as tx:
        assert await tx.users.count() == before + 2


async def test_duplicate_username_is_a_conflict(db):
    await add_user(db, name="bob")
    with pytest.raises(Conflict):
        async with db.transaction() as tx:
            await tx.users.add(user("bob"))


async def test_duplicate_email_is_a_conflict(db):
    await add_user(db, email="same@example.com")
    with pytest.raises(Conflict):
        async with db.transaction() as tx:
            await tx.users.add(user(email="same@example.com"))


async def test_transaction_stays_usable_after_a_conflict(db):
    await add_user(db, name="carol")
    other = user("dave")
    async with db.transaction() as tx:
        with pytest.raises(Conflict):
            await tx.users.add(user("carol"))
        await tx.users.add(other)
    async with db.transaction() as tx:
        assert await tx.users.get(other.id) == other


async def test_first_admin_is_the_earliest_active_admin(db):
    async with db.transaction() as tx:
        assert await tx.users.first_admin() is None
    await add_user(db, is_admin=False, created_at=T0 - timedelta(days=3))
    await add_user(db, is_admin=True, created_at=T0 - timedelta(days=2), disabled_at=T0)
    first = await add_user(db, is_admin=True, created_at=T0 - timedelta(days=1))
    await add_user(db, is_admin=True, created_at=T0)
    async with db.transaction() as tx:
        assert await tx.users.first_admin() == first


async def test_set_password_hash(db):
    alice = await add_user(db)
    other = await add_user(db)
    async with db.transaction() as tx:
        await tx.users.set_password_hash(alice.id, "$argon2id$new")
    async with db.transaction() as tx:
        assert await tx.users.get(alice.id) == replace(
            alice, password_hash="$argon2id$new"
        )
        assert await tx.users.get(other.id) == other


async def test_user_without_password(db):
    owner = await add_user(db, password_hash=None)
    async with db.transaction() as tx:
        found = await tx.users.get(owner.id)
    assert found is not None
    assert found.password_hash is None
