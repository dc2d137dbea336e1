"""A person's own account: the password re-check (and its lockout), email
changes, and a password change that keeps the session asking."""

import pytest

from authgate.domain import account, audit, sessions
from authgate.domain.allowlist import Allowlist
from authgate.domain.passwords import Hasher
from authgate.errors import Conflict, Forbidden, InvalidCredentials, RateLimited
from tests.support.memory import MemoryStores
from tests.unit.domain.conftest import (
    ACCESS_TTL,
    LOCKOUT_POLICY,
    MAILING,
    NOTICES,
    PASSWORD,
    PEER,
    SESSION_POLICY,
    register,
)

pytestmark = pytest.mark.anyio


async def test_a_wrong_current_password_is_refused(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    with pytest.raises(InvalidCredentials):
        await account.confirm_password(hasher, alice, "not my password")
    assert (await account.confirm_password(hasher, alice, PASSWORD)).user == alice


async def test_rechecks_lock_apart_from_sign_in(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    confirmed = await account.confirm_password(hasher, alice, PASSWORD)
    for _ in range(LOCKOUT_POLICY.max_attempts):
        await account.recheck_failed(stores, LOCKOUT_POLICY, alice, peer=PEER)
    assert await stores.lockout.find("alice") is None  # sign-in is not blocked
    with pytest.raises(RateLimited):
        await account.check_recheck_open(stores, alice.id)
    with pytest.raises(RateLimited):  # even the right password, once locked
        await account.reconfirm(stores, confirmed)
    assert stores.audit.actions().count(audit.Action.ACCOUNT_LOCKED) == 1


async def test_a_right_password_restarts_the_count(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    await account.recheck_failed(stores, LOCKOUT_POLICY, alice, peer=PEER)
    confirmed = await account.confirm_password(hasher, alice, PASSWORD)
    await account.reconfirm(stores, confirmed)
    assert await stores.lockout.find(account.recheck_key(alice.id)) is None


async def test_a_password_changed_since_the_check_voids_it(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    confirmed = await account.confirm_password(hasher, alice, PASSWORD)
    await stores.users.set_password_hash(alice.id, await hasher.hash("changed!!"))
    with pytest.raises(InvalidCredentials):
        await account.reconfirm(stores, confirmed)


async def test_changing_the_password_keeps_this_session_only(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    here, there = [
        (
            await sessions.start(
                stores,
                SESSION_POLICY,
                user_id=alice.id,
                prefix="ag",
                peer=PEER,
                amr=("pwd",),
            )
        ).session
        for _ in range(2)
    ]
    confirmed = await account.confirm_password(hasher, alice, PASSWORD)
    new_hash = await hasher.hash("a brand new password")
    ended = await account.change_password(
        stores,
        confirmed,
        new_hash,
        session_id=here.id,
        access_ttl=ACCESS_TTL,
        peer=PEER,
        notify=NOTICES,
    )
    assert ended == [there.id]
    assert [s.id for s in await stores.sessions.list_for_user(alice.id)] == [here.id]
    stored = await stores.users.get(alice.id)
    assert stored is not None
    assert stored.password_hash == new_hash
    assert stores.audit.events[-1].details == {"sessions_ended": 1}


async def test_two_accounts_never_share_an_address_whatever_its_case(
    stores: MemoryStores, hasher: Hasher
) -> None:
    await register(stores, hasher, "alice", email="alice@example.com")
    bob = await register(stores, hasher, "bob")
    with pytest.raises(Conflict):
        await account.change_email(stores, MAILING, bob, "ALICE@example.com", peer=PEER)
    assert await account.change_email(
        stores, MAILING, bob, "Bob@Example.com", peer=PEER
    ) == ("Bob@example.com")
    assert bob.id in stores.invalidated
    assert stores.audit.events[-1].action == audit.Action.EMAIL_CHANGE_REQUESTED


async def test_the_allowlist_holds_for_email_changes(
    stores: MemoryStores, hasher: Hasher
) -> None:
    bob = await register(stores, hasher, "bob", email="bob@example.com")
    allowlist = Allowlist.parse(["@example.com"])
    with pytest.raises(Forbidden):
        await account.change_email(
            stores, MAILING, bob, "bob@example.org", peer=PEER, allowlist=allowlist
        )
    with pytest.raises(Forbidden):  # nor removed
        await account.change_email(
            stores, MAILING, bob, "", peer=PEER, allowlist=allowlist
        )


async def test_an_unchanged_address_writes_nothing(
    stores: MemoryStores, hasher: Hasher
) -> None:
    bob = await register(stores, hasher, "bob", email="bob@example.com")
    await account.change_email(stores, MAILING, bob, "bob@example.com", peer=PEER)
    assert stores.audit.actions() == [audit.Action.USER_CREATED]
    assert stores.invalidated == []
