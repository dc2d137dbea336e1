import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from authgate.storage.db import Database, Tx
from tests.integration.storage.factories import (
    T0,
    add_user,
    concurrently,
    refresh_token,
    session,
)
from tests.support.asserts import present

pytestmark = pytest.mark.anyio


async def test_add_and_by_hash(db: Database) -> None:
    alice = await add_user(db)
    value, token_hash = refresh_token(
        alice.id, client_id="cli", scope="read write", audience="https://api.example"
    )
    async with db.transaction() as tx:
        await tx.refresh_tokens.add(value, token_hash)
    async with db.transaction() as tx:
        assert await tx.refresh_tokens.by_hash(token_hash) == value
        assert await tx.refresh_tokens.by_hash("0" * 64) is None


async def test_bound_to_a_session(db: Database) -> None:
    alice = await add_user(db)
    ses, ses_hash = session(alice.id)
    value, token_hash = refresh_token(alice.id, session_id=ses.id)
    async with db.transaction() as tx:
        await tx.sessions.add(ses, ses_hash)
        await tx.refresh_tokens.add(value, token_hash)
    async with db.transaction() as tx:
        assert present(await tx.refresh_tokens.by_hash(token_hash)).session_id == ses.id


async def test_mark_used_once(db: Database) -> None:
    alice = await add_user(db)
    value, token_hash = refresh_token(alice.id)
    at = T0 + timedelta(minutes=1)
    async with db.transaction() as tx:
        await tx.refresh_tokens.add(value, token_hash)
    async with db.transaction() as tx:
        assert await tx.refresh_tokens.mark_used(value.id, at) is True
    async with db.transaction() as tx:
        assert await tx.refresh_tokens.mark_used(value.id, at) is False
        assert await tx.refresh_tokens.by_hash(token_hash) == replace(value, used_at=at)
        assert await tx.refresh_tokens.mark_used("rt_missing", at) is False


async def test_concurrent_mark_used_exactly_one_wins(db: Database) -> None:
    alice = await add_user(db)
    value, token_hash = refresh_token(alice.id)
    async with db.transaction() as tx:
        await tx.refresh_tokens.add(value, token_hash)

    async def use(tx: Tx) -> bool:
        return await tx.refresh_tokens.mark_used(value.id, T0)

    assert sorted(await concurrently(db, 2, use)) == [False, True]


async def test_revoke_family(db: Database) -> None:
    alice = await add_user(db)
    first, first_hash = refresh_token(alice.id)
    second, second_hash = refresh_token(alice.id, family_id=first.id)
    other, other_hash = refresh_token(alice.id)
    async with db.transaction() as tx:
        for value, token_hash in (
            (first, first_hash),
            (second, second_hash),
            (other, other_hash),
        ):
            await tx.refresh_tokens.add(value, token_hash)
    at = T0 + timedelta(hours=1)
    async with db.transaction() as tx:
        assert await tx.refresh_tokens.revoke_family(first.id, at) == 2
    async with db.transaction() as tx:
        assert await tx.refresh_tokens.revoke_family(first.id, at) == 0
        assert present(await tx.refresh_tokens.by_hash(first_hash)).revoked_at == at
        assert present(await tx.refresh_tokens.by_hash(second_hash)).revoked_at == at
        assert present(await tx.refresh_tokens.by_hash(other_hash)).revoked_at is None


async def test_a_revoked_token_is_not_marked_used(db: Database) -> None:
    alice = await add_user(db)
    value, token_hash = refresh_token(alice.id, client_id="app")
    async with db.transaction() as tx:
        await tx.refresh_tokens.add(value, token_hash)
        assert await tx.refresh_tokens.revoke_for_user(alice.id, T0) == [value.id]
        assert not await tx.refresh_tokens.mark_used(value.id, T0)


class HeldRotation:
    """A user's token and a rotation of it that, once ``started`` is set,
    stays uncommitted for half a second: what a concurrent writer must wait
    for."""

    def __init__(self, db: Database, user_id: str) -> None:
        self.db = db
        self.first, self.first_hash = refresh_token(user_id, client_id="app")
        self.successor, self.successor_hash = refresh_token(
            user_id, client_id="app", family_id=self.first.id
        )
        self.started = asyncio.Event()

    async def add(self) -> "HeldRotation":
        async with self.db.transaction() as tx:
            await tx.refresh_tokens.add(self.first, self.first_hash)
        return self

    async def rotate(self) -> None:
        async with self.db.transaction() as tx:
            assert await tx.refresh_tokens.mark_used(self.first.id, T0)
            await tx.refresh_tokens.add(self.successor, self.successor_hash)
            self.started.set()
            await asyncio.sleep(0.5)


async def test_revoking_a_users_tokens_catches_a_rotation_in_flight(
    db: Database,
) -> None:
    """A rotation holds its token until it commits the successor; revoking
    every token of the user waits for it and revokes the successor too (on
    PostgreSQL a plain UPDATE would not see a row committed while it waited)."""
    alice = await add_user(db)
    held = await HeldRotation(db, alice.id).add()

    async def revoke() -> list[str]:
        await held.started.wait()
        async with db.transaction() as tx:
            return await tx.refresh_tokens.revoke_for_user(alice.id, T0)

    _, families = await asyncio.gather(held.rotate(), revoke())
    assert families == [held.first.id]
    async with db.read() as tx:
        for token_hash in (held.first_hash, held.successor_hash):
            found = await tx.refresh_tokens.by_hash(token_hash)
            assert found is not None
            assert found.revoked_at is not None


async def test_a_reuse_racing_the_rotation_revokes_its_successor(db: Database) -> None:
    """Two uses of one token, both read before either writes: the rotation
    retires it first; the other's ``mark_used`` waits for that commit and
    fails, and the family revocation it then makes catches the successor
    (``domain.refresh_tokens.rotate`` relies on both)."""
    alice = await add_user(db)
    held = await HeldRotation(db, alice.id).add()

    async def reuse() -> int:
        await held.started.wait()
        async with db.transaction() as tx:
            assert not await tx.refresh_tokens.mark_used(held.first.id, T0)
            return await tx.refresh_tokens.revoke_family(held.first.id, T0)

    _, revoked = await asyncio.gather(held.rotate(), reuse())
    assert revoked == 2
    async with db.read() as tx:
        found = await tx.refresh_tokens.by_hash(held.successor_hash)
        assert found is not None
        assert found.revoked_at is not None
