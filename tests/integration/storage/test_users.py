from dataclasses import replace
from datetime import timedelta

import pytest

from authgate.domain import users
from authgate.domain.context import NO_PEER
from authgate.errors import Conflict
from authgate.storage.db import Database, Tx
from authgate.util.ids import new_id
from tests.integration.storage.factories import (
    T0,
    add_user,
    concurrently,
    passkey,
    session,
    user,
)
from tests.support.asserts import present

TTL = timedelta(minutes=15)

pytestmark = pytest.mark.anyio


async def test_add_then_get_and_by_username(db: Database) -> None:
    alice = user("alice", email="alice@example.com", is_admin=True)
    async with db.transaction() as tx:
        await tx.users.add(alice)
    async with db.transaction() as tx:
        assert await tx.users.get(alice.id) == alice
        assert await tx.users.by_username("alice") == alice


async def test_missing(db: Database) -> None:
    async with db.transaction() as tx:
        assert await tx.users.get("usr_missing") is None
        assert await tx.users.by_username("nobody") is None


async def test_count(db: Database) -> None:
    async with db.transaction() as tx:
        before = await tx.users.count()
    await add_user(db)
    await add_user(db)
    async with db.transaction() as tx:
        assert await tx.users.count() == before + 2


async def test_duplicate_username_is_a_conflict(db: Database) -> None:
    await add_user(db, name="bob")
    with pytest.raises(Conflict):
        async with db.transaction() as tx:
            await tx.users.add(user("bob"))


async def test_duplicate_email_is_a_conflict(db: Database) -> None:
    await add_user(db, email="same@example.com")
    with pytest.raises(Conflict):
        async with db.transaction() as tx:
            await tx.users.add(user(email="same@example.com"))


async def test_transaction_stays_usable_after_a_conflict(db: Database) -> None:
    await add_user(db, name="carol")
    other = user("dave")
    async with db.transaction() as tx:
        with pytest.raises(Conflict):
            await tx.users.add(user("carol"))
        await tx.users.add(other)
    async with db.transaction() as tx:
        assert await tx.users.get(other.id) == other


async def test_first_admin_is_the_earliest_active_admin(db: Database) -> None:
    async with db.transaction() as tx:
        assert await tx.users.first_admin() is None
    await add_user(db, is_admin=False, created_at=T0 - timedelta(days=3))
    await add_user(db, is_admin=True, created_at=T0 - timedelta(days=2), disabled_at=T0)
    first = await add_user(db, is_admin=True, created_at=T0 - timedelta(days=1))
    await add_user(db, is_admin=True, created_at=T0)
    async with db.transaction() as tx:
        assert await tx.users.first_admin() == first


async def test_set_password_hash(db: Database) -> None:
    alice = await add_user(db)
    other = await add_user(db)
    async with db.transaction() as tx:
        await tx.users.set_password_hash(alice.id, "$argon2id$new")
    async with db.transaction() as tx:
        assert await tx.users.get(alice.id) == replace(
            alice, password_hash="$argon2id$new"
        )
        assert await tx.users.get(other.id) == other


async def test_set_email_keeps_addresses_unique(db: Database) -> None:
    taken = await add_user(db, email="taken@example.com")
    mine = await add_user(db, email="mine@example.com")
    async with db.transaction() as tx:
        with pytest.raises(Conflict):
            await tx.users.set_email(mine.id, "taken@example.com", None)
        # The transaction stays usable after the refusal.
        await tx.users.set_email(mine.id, "new@example.com", None)
    async with db.transaction() as tx:
        assert present(await tx.users.get(mine.id)).email == "new@example.com"
        assert present(await tx.users.get(taken.id)).email == "taken@example.com"
        await tx.users.set_email(mine.id, None, None)
    async with db.transaction() as tx:
        assert present(await tx.users.get(mine.id)).email is None


async def test_user_without_password(db: Database) -> None:
    owner = await add_user(db, password_hash=None)
    async with db.transaction() as tx:
        found = await tx.users.get(owner.id)
    assert found is not None
    assert found.password_hash is None


async def test_search_by_username_or_email_ignoring_case(db: Database) -> None:
    tag = new_id("t").lower()[-8:]
    bob = await add_user(db, name=f"bob-{tag}", email=f"Bob.{tag}@Example.com")
    carol = await add_user(db, name=f"carol-{tag}", email=f"c-{tag}@example.org")
    await add_user(db, name=f"dave-{tag}x")
    async with db.transaction() as tx:
        assert await tx.users.search(f"BOB.{tag}@example", limit=10, after=None) == [
            bob
        ]
        assert await tx.users.search(f"carol-{tag}", limit=10, after=None) == [carol]
        found = await tx.users.search(tag, limit=10, after=None)
        assert [u.username for u in found] == sorted(u.username for u in found)
        assert len(found) == 3
        assert await tx.users.search("no-such-text", limit=10, after=None) == []


async def test_search_wildcards_match_themselves(db: Database) -> None:
    await add_user(db, name="under_score")
    await add_user(db, name="underxscore")
    async with db.transaction() as tx:
        found = await tx.users.search("under_", limit=10, after=None)
        assert [u.username for u in found] == ["under_score"]
        assert await tx.users.search("%", limit=10, after=None) == []


async def test_search_pages_by_username(db: Database) -> None:
    names = sorted(f"page{n}-{new_id('p').lower()[-6:]}" for n in range(5))
    for name in names:
        await add_user(db, name=name)
    async with db.transaction() as tx:
        first = await tx.users.search("page", limit=2, after=None)
        second = await tx.users.search("page", limit=2, after=first[-1].username)
        rest = await tx.users.search("page", limit=2, after=second[-1].username)
    assert [u.username for u in first + second + rest] == names


async def test_set_admin(db: Database) -> None:
    alice = await add_user(db)
    async with db.transaction() as tx:
        assert await tx.users.set_admin(alice.id, True) is True
        assert await tx.users.set_admin("usr_missing", True) is False
    async with db.transaction() as tx:
        assert await tx.users.get(alice.id) == replace(alice, is_admin=True)
        assert await tx.users.set_admin(alice.id, False) is True
    async with db.transaction() as tx:
        assert await tx.users.get(alice.id) == alice


async def test_delete_takes_what_belongs_to_the_user(db: Database) -> None:
    alice = await add_user(db)
    bob = await add_user(db)
    held, token_hash = session(alice.id)
    kept, other_hash = session(bob.id)
    key = passkey(alice.id)
    async with db.transaction() as tx:
        await tx.sessions.add(held, token_hash)
        await tx.sessions.add(kept, other_hash)
        await tx.passkeys.add(key)
    async with db.transaction() as tx:
        assert await tx.users.delete(alice.id) is True
        assert await tx.users.delete(alice.id) is False
    async with db.transaction() as tx:
        assert await tx.users.get(alice.id) is None
        assert await tx.sessions.get(held.id) is None
        assert await tx.passkeys.for_user(alice.id) == []
        assert await tx.users.get(bob.id) == bob
        assert await tx.sessions.get(kept.id) is not None


async def test_lock_active_admins_lists_only_active_admins(db: Database) -> None:
    one = await add_user(db, is_admin=True)
    two = await add_user(db, is_admin=True)
    await add_user(db, is_admin=True, disabled_at=T0)
    await add_user(db, is_admin=False)
    async with db.transaction() as tx:
        assert await tx.users.lock_active_admins() == sorted([one.id, two.id])


async def test_two_admins_demoting_each_other_leave_one(db: Database) -> None:
    """The last-admin rule under a race: each transaction demotes the other
    admin; the admins' rows are locked first, so the second to get the lock
    sees the first's change and is refused."""
    first = await add_user(db, is_admin=True)
    second = await add_user(db, is_admin=True)
    targets = iter([first.id, second.id])

    async def demote(tx: Tx) -> str:
        target = next(targets)
        try:
            await users.set_admin(tx, target, False, actor_id=None, peer=NO_PEER)
        except Conflict:
            return "refused"
        return "demoted"

    outcomes = await concurrently(db, 2, demote)
    assert sorted(outcomes) == ["demoted", "refused"]
    async with db.transaction() as tx:
        assert len(await tx.users.lock_active_admins()) == 1


async def test_the_last_admin_is_neither_demoted_nor_disabled(db: Database) -> None:
    only = await add_user(db, is_admin=True)
    await add_user(db, is_admin=True, disabled_at=T0)  # a disabled one counts not
    with pytest.raises(Conflict, match="last active administrator"):
        async with db.transaction() as tx:
            await users.set_admin(tx, only.id, False, actor_id=None, peer=NO_PEER)
    with pytest.raises(Conflict, match="last active administrator"):
        async with db.transaction() as tx:
            await users.set_active(
                tx, only.id, False, actor_id=None, access_ttl=TTL, peer=NO_PEER
            )
    async with db.transaction() as tx:
        assert await tx.users.get(only.id) == only
        # Anyone else can go.
        other = user(is_admin=True)
        await tx.users.add(other)
        await users.set_active(
            tx, other.id, False, actor_id=None, access_ttl=TTL, peer=NO_PEER
        )
