from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from authgate.domain.sessions import Session
from authgate.storage.db import Database
from tests.integration.storage.factories import T0, add_user, session
from tests.support.asserts import present

pytestmark = pytest.mark.anyio


async def add_session(db: Database, user_id: str, **fields: Any) -> tuple[Session, str]:
    value, token_hash = session(user_id, **fields)
    async with db.transaction() as tx:
        await tx.sessions.add(value, token_hash)
    return value, token_hash


async def test_add_get_by_token_hash(db: Database) -> None:
    alice = await add_user(db)
    value, token_hash = await add_session(db, alice.id)
    async with db.transaction() as tx:
        assert await tx.sessions.get(value.id) == value
        assert await tx.sessions.by_token_hash(token_hash) == value
        assert await tx.sessions.get("ses_missing") is None
        assert await tx.sessions.by_token_hash("0" * 64) is None


async def test_touch_moves_last_active(db: Database) -> None:
    alice = await add_user(db)
    value, _ = await add_session(db, alice.id)
    later = T0 + timedelta(minutes=5)
    async with db.transaction() as tx:
        await tx.sessions.touch(value.id, later)
    async with db.transaction() as tx:
        assert await tx.sessions.get(value.id) == replace(value, last_active_at=later)


async def test_reauthenticate_records_when_and_how(db: Database) -> None:
    alice = await add_user(db)
    value, _ = await add_session(db, alice.id)
    later = T0 + timedelta(minutes=30)
    async with db.transaction() as tx:
        await tx.sessions.reauthenticate(value.id, later, ("mfa", "otp", "pwd"))
    async with db.transaction() as tx:
        stored = await tx.sessions.get(value.id)
    assert stored == replace(value, authenticated_at=later, amr=("mfa", "otp", "pwd"))
    assert stored.auth_time == later


async def test_a_session_from_before_auth_time_was_kept_dates_from_its_start(
    db: Database,
) -> None:
    alice = await add_user(db)
    value, _ = await add_session(db, alice.id, authenticated_at=None, amr=())
    async with db.transaction() as tx:
        stored = await tx.sessions.get(value.id)
    assert stored is not None
    assert (stored.amr, stored.auth_time) == ((), value.created_at)


async def test_revoke_once(db: Database) -> None:
    alice = await add_user(db)
    value, token_hash = await add_session(db, alice.id)
    at = T0 + timedelta(hours=1)
    async with db.transaction() as tx:
        assert await tx.sessions.revoke(value.id, at, "logout") is True
    async with db.transaction() as tx:
        assert await tx.sessions.revoke(value.id, at, "logout") is False
        assert await tx.sessions.revoke("ses_missing", at, "logout") is False
        assert present(await tx.sessions.by_token_hash(token_hash)).revoked_at == at


async def test_revoke_all_for_user(db: Database) -> None:
    alice = await add_user(db)
    bob = await add_user(db)
    first, _ = await add_session(db, alice.id)
    second, _ = await add_session(db, alice.id)
    gone, _ = await add_session(db, alice.id)
    theirs, _ = await add_session(db, bob.id)
    async with db.transaction() as tx:
        await tx.sessions.revoke(gone.id, T0, "logout")
    at = T0 + timedelta(hours=1)
    async with db.transaction() as tx:
        revoked = await tx.sessions.revoke_all_for_user(alice.id, at, "password_reset")
    assert sorted(revoked) == sorted([first.id, second.id])
    async with db.transaction() as tx:
        assert present(await tx.sessions.get(first.id)).revoked_at == at
        assert present(await tx.sessions.get(gone.id)).revoked_at == T0  # kept
        assert present(await tx.sessions.get(theirs.id)).revoked_at is None
        assert await tx.sessions.revoke_all_for_user(alice.id, at, "again") == []


async def test_list_for_user_is_live_sessions_newest_activity_first(
    db: Database,
) -> None:
    alice = await add_user(db)
    bob = await add_user(db)
    old, _ = await add_session(db, alice.id, last_active_at=T0)
    new, _ = await add_session(db, alice.id, last_active_at=T0 + timedelta(hours=2))
    mid, _ = await add_session(db, alice.id, last_active_at=T0 + timedelta(hours=1))
    revoked, _ = await add_session(db, alice.id)
    await add_session(db, bob.id)
    async with db.transaction() as tx:
        await tx.sessions.revoke(revoked.id, T0, "logout")
    async with db.transaction() as tx:
        listed = await tx.sessions.list_for_user(alice.id)
    assert listed == [new, mid, old]


async def test_sessions_go_with_their_user_ids_only(db: Database) -> None:
    alice = await add_user(db)
    async with db.transaction() as tx:
        assert await tx.sessions.list_for_user(alice.id) == []
