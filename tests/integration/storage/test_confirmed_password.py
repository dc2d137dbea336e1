"""A password is checked before the write transaction opens
(``account.confirm_password``); the write holds only if the password is still
the one checked, so a change made meanwhile voids the check."""

from datetime import timedelta

import pytest

from authgate.domain import account, recovery
from authgate.domain.audit import AuditQuery
from authgate.domain.context import NO_PEER
from authgate.errors import InvalidCredentials
from authgate.storage.db import Database
from tests.integration.storage.factories import add_user
from tests.unit.domain.conftest import NOTICES

pytestmark = pytest.mark.anyio

TTL = timedelta(minutes=15)
NEW_HASH = "$argon2id$new"


async def test_a_password_changed_since_the_check_voids_it(db: Database) -> None:
    alice = await add_user(db)
    checked = account.Confirmed(alice)  # what a right password gave
    async with db.transaction() as tx:
        await tx.users.set_password_hash(alice.id, "$argon2id$changed-meanwhile")

    with pytest.raises(InvalidCredentials):
        async with db.transaction() as tx:
            await account.change_password(
                tx,
                checked,
                NEW_HASH,
                session_id=None,
                access_ttl=TTL,
                peer=NO_PEER,
                notify=NOTICES,
            )
    with pytest.raises(InvalidCredentials):
        async with db.transaction() as tx:
            await recovery.issue(tx, checked, prefix="ag", peer=NO_PEER)

    async with db.read() as tx:
        current = await tx.users.get(alice.id)
        assert current is not None
        assert current.password_hash == "$argon2id$changed-meanwhile"
        assert await tx.audit.query(AuditQuery(user_id=alice.id)) == []


async def test_an_unchanged_password_lets_the_write_through(db: Database) -> None:
    alice = await add_user(db)
    async with db.transaction() as tx:
        ended = await account.change_password(
            tx,
            account.Confirmed(alice),
            NEW_HASH,
            session_id=None,
            access_ttl=TTL,
            peer=NO_PEER,
            notify=NOTICES,
        )
    assert ended == []
    async with db.read() as tx:
        current = await tx.users.get(alice.id)
        assert current is not None
        assert current.password_hash == NEW_HASH
