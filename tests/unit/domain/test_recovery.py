"""Recovery keys: one per person, used once, resetting the password and
ending every login; refusals look alike and are audited."""

import pytest

from authgate.domain import account, audit, mail, recovery, sessions
from authgate.domain.passwords import Hasher
from authgate.errors import WeakPassword
from tests.support.memory import MemoryStores
from tests.unit.domain.conftest import (
    ACCESS_TTL,
    MAILING,
    PASSWORD,
    PEER,
    SESSION_POLICY,
    register,
)

pytestmark = pytest.mark.anyio

NEW_PASSWORD = "a completely new passphrase"


async def recover(
    stores: MemoryStores, hasher: Hasher, key: str, password: str = NEW_PASSWORD
) -> bool:
    return await recovery.recover(
        stores,
        hasher,
        MAILING.sealer,
        username="Alice",
        key=key,
        new_password=password,
        min_length=8,
        access_ttl=ACCESS_TTL,
        peer=PEER,
    )


async def issue(stores: MemoryStores, hasher: Hasher) -> str:
    alice = await stores.users.by_username("alice")
    assert alice is not None
    confirmed = await account.confirm_password(hasher, alice, PASSWORD)
    return await recovery.issue(stores, confirmed, prefix="ag", peer=PEER)


async def test_a_key_resets_the_password_once(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    await sessions.start(
        stores, SESSION_POLICY, user_id=alice.id, prefix="ag", peer=PEER, amr=("pwd",)
    )
    key = await issue(stores, hasher)
    assert key.startswith("ag_rec_")
    assert await recover(stores, hasher, key) is True
    stored = await stores.users.get(alice.id)
    assert stored is not None
    assert await hasher.verify(stored.password_hash, NEW_PASSWORD)
    assert await stores.sessions.list_for_user(alice.id) == []
    assert await recover(stores, hasher, key) is False


async def test_a_new_key_replaces_the_old(stores: MemoryStores, hasher: Hasher) -> None:
    await register(stores, hasher, "alice")
    old = await issue(stores, hasher)
    new = await issue(stores, hasher)
    assert await recover(stores, hasher, old) is False
    assert await recover(stores, hasher, new) is True


async def test_refusals_are_audited(stores: MemoryStores, hasher: Hasher) -> None:
    await register(stores, hasher, "alice")
    assert await recover(stores, hasher, "ag_rec_wrong") is False
    failed = stores.audit.events[-1]
    assert (failed.action, failed.details) == (
        audit.Action.RECOVERY_FAILED,
        {"username": "alice"},
    )


async def test_a_weak_password_costs_no_key(
    stores: MemoryStores, hasher: Hasher
) -> None:
    await register(stores, hasher, "alice")
    key = await issue(stores, hasher)
    with pytest.raises(WeakPassword):
        await recover(stores, hasher, key, password="short")
    assert await recover(stores, hasher, key) is True


async def test_a_reset_by_key_tells_a_verified_address(
    stores: MemoryStores, hasher: Hasher
) -> None:
    await register(
        stores, hasher, "alice", email="alice@example.com", email_verified=True
    )
    assert await recover(stores, hasher, await issue(stores, hasher)) is True
    opened = [mail.unseal(MAILING.sealer, q) for q in stores.mail.rows]
    assert [(m.to, m.template) for m in opened if m is not None] == [
        ("alice@example.com", "password_changed")
    ]
