"""Conformance of ``PasskeyStore``: one credential id once, each person's own
passkeys only, the counter and backup state a use writes."""

from dataclasses import replace
from datetime import timedelta

import pytest

from authgate.errors import Conflict
from authgate.storage.db import Database
from tests.integration.storage.factories import T0, passkey, user

pytestmark = pytest.mark.anyio


async def test_passkeys_round_trip_oldest_first(db: Database) -> None:
    owner, other = user(), user()
    first = passkey(owner.id)
    second = passkey(owner.id, created_at=T0 + timedelta(seconds=1), backed_up=True)
    async with db.transaction() as tx:
        await tx.users.add(owner)
        await tx.users.add(other)
        await tx.passkeys.add(second)
        await tx.passkeys.add(first)
        await tx.passkeys.add(passkey(other.id))
    async with db.read() as tx:
        assert await tx.passkeys.for_user(owner.id) == [first, second]
        assert await tx.passkeys.by_credential_id(second.credential_id) == second
        assert await tx.passkeys.by_credential_id("unknown") is None


async def test_a_credential_id_is_registered_once(db: Database) -> None:
    owner, other = user(), user()
    taken = passkey(owner.id)
    async with db.transaction() as tx:
        await tx.users.add(owner)
        await tx.users.add(other)
        await tx.passkeys.add(taken)
    async with db.transaction() as tx:
        with pytest.raises(Conflict):
            await tx.passkeys.add(passkey(other.id, credential_id=taken.credential_id))
        # The transaction goes on after the refusal.
        assert await tx.passkeys.for_user(other.id) == []


async def test_only_the_owner_renames_and_removes(db: Database) -> None:
    owner, other = user(), user()
    mine = passkey(owner.id)
    async with db.transaction() as tx:
        await tx.users.add(owner)
        await tx.users.add(other)
        await tx.passkeys.add(mine)
    async with db.transaction() as tx:
        assert await tx.passkeys.rename(other.id, mine.id, "Theirs") is False
        assert await tx.passkeys.remove(other.id, mine.id) is False
        assert await tx.passkeys.rename(owner.id, mine.id, "Phone") is True
    async with db.transaction() as tx:
        assert await tx.passkeys.for_user(owner.id) == [replace(mine, name="Phone")]
        assert await tx.passkeys.remove(owner.id, mine.id) is True
        assert await tx.passkeys.for_user(owner.id) == []


async def test_a_use_records_counter_backup_and_time(db: Database) -> None:
    owner = user()
    mine = passkey(owner.id)
    async with db.transaction() as tx:
        await tx.users.add(owner)
        await tx.passkeys.add(mine)
        await tx.passkeys.used(mine.id, 2**32 - 1, True, T0 + timedelta(hours=1))
    async with db.read() as tx:
        assert await tx.passkeys.by_credential_id(mine.credential_id) == replace(
            mine,
            sign_count=2**32 - 1,
            backed_up=True,
            last_used_at=T0 + timedelta(hours=1),
        )
