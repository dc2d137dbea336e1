"""Local accounts: the three-step password sign-in, disabling, the last admin."""

from dataclasses import replace

import pytest

from authgate.domain import audit, credentials, sessions, users
from authgate.domain.passwords import Hasher
from authgate.errors import Conflict, InvalidRequest, NotFound
from authgate.util import clock
from tests.support.memory import MemoryStores
from tests.unit.domain.conftest import (
    ACCESS_TTL,
    LOCKOUT_POLICY,
    PASSWORD,
    PEER,
    SESSION_POLICY,
    register,
)

pytestmark = pytest.mark.anyio


async def sign_in(
    stores: MemoryStores, hasher: Hasher, username: str, password: str
) -> users.User | None:
    attempt = await users.begin_sign_in(stores, username)
    checked = await users.check_password(hasher, attempt, password)
    return await users.finish_sign_in(stores, LOCKOUT_POLICY, checked, peer=PEER)


def test_usernames_are_one_account_whatever_their_case() -> None:
    assert users.normalize_username("\uff21LICE")  # fullwidth A == "alice"
    with pytest.raises(InvalidRequest):
        users.normalize_username("-alice")


def test_email_domain_is_lowered_but_not_the_mailbox() -> None:
    assert users.normalize_email(" Ada@Example.COM ") == "Ada@example.com"
    assert users.normalize_email("  ") is None
    with pytest.raises(InvalidRequest):
        users.normalize_email("ada\u200b@example.com")  # zero-width space


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("not-an-address", "must have an @-sign"),
        ("ada..lovelace@example.com", "two periods in a row"),
        ("ada@example..com", "period"),
        ("ada lovelace@example.com", "SPACE"),
        ("ada@example.com\u202e", "RIGHT-TO-LEFT OVERRIDE"),
        ("ada@corp.local", "special-use or reserved"),
        ("ada@" + "a" * 250 + ".com", "too long"),
    ],
)
def test_a_malformed_address_is_refused_saying_why(address: str, reason: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        users.normalize_email(address)
    assert str(refused.value).startswith("Email address is not valid. ")
    assert reason in str(refused.value)


def test_an_international_address_keeps_its_mailbox_and_normalises_its_domain() -> None:
    assert (
        users.normalize_email("J\u00f6rg@B\u00dccher.DE") == "J\u00f6rg@b\u00fccher.de"
    )


async def test_a_taken_username_is_refused(
    stores: MemoryStores, hasher: Hasher
) -> None:
    await register(stores, hasher, "alice")
    with pytest.raises(Conflict):
        await register(stores, hasher, "ALICE")
    assert stores.audit.actions() == [audit.Action.USER_CREATED]


async def test_sign_in_with_the_right_password(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    assert await sign_in(stores, hasher, "Alice", PASSWORD) == alice


async def test_every_refusal_looks_the_same_and_is_audited_with_its_reason(
    stores: MemoryStores, hasher: Hasher
) -> None:
    await register(stores, hasher, "alice")
    assert await sign_in(stores, hasher, "alice", "wrong password!") is None
    assert await sign_in(stores, hasher, "nobody", PASSWORD) is None
    failed = [
        e.details["reason"]
        for e in stores.audit.events
        if e.action == audit.Action.LOGIN_FAILED
    ]
    assert failed == ["wrong_password", "unknown_user"]


async def test_lockout_after_repeated_failures_refuses_even_the_right_password(
    stores: MemoryStores, hasher: Hasher
) -> None:
    await register(stores, hasher, "alice")
    for _ in range(LOCKOUT_POLICY.max_attempts):
        assert await sign_in(stores, hasher, "alice", "wrong password!") is None
    assert stores.audit.actions().count(audit.Action.ACCOUNT_LOCKED) == 1
    assert await sign_in(stores, hasher, "alice", PASSWORD) is None
    assert stores.audit.events[-1].details["reason"] == "locked"
    clock.advance(LOCKOUT_POLICY.duration.total_seconds())
    assert await sign_in(stores, hasher, "alice", PASSWORD) is not None


async def test_a_success_clears_earlier_failures(
    stores: MemoryStores, hasher: Hasher
) -> None:
    await register(stores, hasher, "alice")
    await sign_in(stores, hasher, "alice", "wrong password!")
    assert await stores.lockout.find("alice") is not None
    await sign_in(stores, hasher, "alice", PASSWORD)
    assert await stores.lockout.find("alice") is None


async def test_a_password_changed_between_the_steps_voids_the_check(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    attempt = await users.begin_sign_in(stores, "alice")
    checked = await users.check_password(hasher, attempt, PASSWORD)
    await stores.users.set_password_hash(alice.id, await hasher.hash("another one!"))
    found = await users.finish_sign_in(stores, LOCKOUT_POLICY, checked, peer=PEER)
    assert found is None


async def test_an_outdated_hash_is_replaced_at_sign_in(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    stronger = Hasher(time_cost=2, memory_kib=1024)
    attempt = await users.begin_sign_in(stores, "alice")
    checked = await users.check_password(stronger, attempt, PASSWORD)
    assert checked.new_hash is not None
    await users.finish_sign_in(stores, LOCKOUT_POLICY, checked, peer=PEER)
    assert await stores.users.get(alice.id) == replace(
        alice, password_hash=checked.new_hash
    )


async def test_a_disabled_account_cannot_sign_in(
    stores: MemoryStores, hasher: Hasher
) -> None:
    await register(stores, hasher, "root", is_admin=True)
    alice = await register(stores, hasher, "alice")
    await users.set_active(
        stores, alice.id, False, actor_id=None, access_ttl=ACCESS_TTL, peer=PEER
    )
    assert await sign_in(stores, hasher, "alice", PASSWORD) is None
    assert stores.audit.events[-1].details["reason"] == "disabled"


async def test_disabling_ends_every_login_and_evicts_the_user(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    started = await sessions.start(
        stores, SESSION_POLICY, user_id=alice.id, prefix="ag", peer=PEER, amr=("pwd",)
    )
    await users.set_active(
        stores, alice.id, False, actor_id=None, access_ttl=ACCESS_TTL, peer=PEER
    )
    assert await stores.sessions.list_for_user(alice.id) == []
    assert alice.id in stores.invalidated
    assert started.session.id in stores.invalidated
    assert stores.audit.actions()[-1] == audit.Action.USER_DISABLED
    await users.set_active(
        stores, alice.id, True, actor_id=None, access_ttl=ACCESS_TTL, peer=PEER
    )
    assert await stores.sessions.list_for_user(alice.id) == []  # none come back


async def test_disable_also_revokes_tokens_and_keys(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    pat, _ = await credentials.issue(
        stores,
        kind="pat",
        prefix="ag",
        user_id=alice.id,
        name="ci",
        scopes=("read",),
        expires_at=None,
        org_id=None,
        peer=PEER,
    )
    await users.disable(
        stores, alice.id, actor_id=None, access_ttl=ACCESS_TTL, peer=PEER
    )
    assert await stores.credentials.list_for_user(alice.id, "pat") == []
    assert pat.id in stores.invalidated


async def test_the_last_active_admin_stays(
    stores: MemoryStores, hasher: Hasher
) -> None:
    root = await register(stores, hasher, "root", is_admin=True)
    with pytest.raises(Conflict, match="last active administrator"):
        await users.set_admin(stores, root.id, False, actor_id=None, peer=PEER)
    with pytest.raises(Conflict):
        await users.set_active(
            stores, root.id, False, actor_id=None, access_ttl=ACCESS_TTL, peer=PEER
        )
    other = await register(stores, hasher, "other")
    await users.set_admin(stores, other.id, True, actor_id=root.id, peer=PEER)
    await users.set_admin(stores, root.id, False, actor_id=other.id, peer=PEER)
    demoted = await stores.users.get(root.id)
    assert demoted is not None
    assert not demoted.is_admin
    assert root.id in stores.invalidated


async def test_unknown_users_are_not_found(stores: MemoryStores) -> None:
    with pytest.raises(NotFound):
        await users.set_admin(stores, "usr_x", True, actor_id=None, peer=PEER)


async def test_single_user_mode_owner_is_made_once(stores: MemoryStores) -> None:
    owner = await users.local_owner(stores)
    assert (owner.username, owner.is_admin, owner.password_hash) == (
        users.LOCAL_OWNER,
        True,
        None,
    )
    assert await users.local_owner(stores) == owner


async def test_replacing_a_password_ends_every_login(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    await sessions.start(
        stores, SESSION_POLICY, user_id=alice.id, prefix="ag", peer=PEER, amr=("pwd",)
    )
    await users.replace_password(
        stores,
        alice,
        await hasher.hash("a new password"),
        actor_id=None,
        access_ttl=ACCESS_TTL,
        peer=PEER,
    )
    assert await stores.sessions.list_for_user(alice.id) == []
    assert stores.audit.actions()[-2:] == [
        audit.Action.SESSION_REVOKED,
        audit.Action.PASSWORD_RESET,
    ]
