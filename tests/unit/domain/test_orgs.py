"""Organizations: creation, the role matrix applied, the last owner, invites."""

import pytest

from authgate.domain import audit, credentials, orgs, users
from authgate.domain.orgs import Membership
from authgate.domain.passwords import Hasher
from authgate.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    MfaEnrollmentRequired,
    NotFound,
)
from tests.support.memory import MemoryStores
from tests.unit.domain.conftest import MAILING, PEER, register, with_app

pytestmark = pytest.mark.anyio


async def create(stores: MemoryStores, owner: users.User, name: str) -> Membership:
    return await orgs.create(stores, user_id=owner.id, name=name, slug=None, peer=PEER)


async def member(
    stores: MemoryStores, hasher: Hasher, org: Membership, username: str, role: str
) -> Membership:
    """A member with ``role``, joined the way an invite joins them."""
    person = await register(
        stores, hasher, username, email=f"{username}@example.com", email_verified=True
    )
    _, code = await orgs.invite(
        stores,
        org,
        email=f"{username}@example.com",
        role=role,
        mailing=MAILING,
        accounts=False,
        peer=PEER,
    )
    return await orgs.accept(stores, code, user=person, peer=PEER)


@pytest.fixture
async def acme(stores: MemoryStores, hasher: Hasher) -> Membership:
    owner = await register(stores, hasher, "owner")
    return await create(stores, owner, "Acme")


def test_slugs() -> None:
    assert orgs.slugify("Zoë & Co.") == "zoe-co"
    assert orgs.slugify("李") == "org"
    for slug in ("org_1", "-a", "accept", "A"):
        with pytest.raises(InvalidRequest):
            orgs.check_slug(slug)


async def test_the_creator_owns_it_and_it_becomes_their_default(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    first = await create(stores, alice, "Acme")
    second = await create(stores, alice, "Acme")
    assert (first.role, first.org.slug, second.org.slug) == ("owner", "acme", "acme-2")
    stored = await stores.users.get(alice.id)
    assert stored is not None
    assert stored.default_org_id == first.org.id
    assert alice.id in stores.invalidated


async def test_not_a_member_and_no_such_org_look_alike(
    stores: MemoryStores, hasher: Hasher, acme: Membership
) -> None:
    stranger = await register(stores, hasher, "stranger")
    for name in (acme.org.slug, "no-such-org"):
        with pytest.raises(NotFound, match="No such organization"):
            await orgs.access(stores, name, stranger.id)
    found = await orgs.access(stores, acme.org.id, acme.user_id, read_only=True)
    assert found.role == "viewer"  # a read-only credential acts as a viewer


async def test_members_and_viewers_cannot_run_the_org(
    stores: MemoryStores, hasher: Hasher, acme: Membership
) -> None:
    bob = await member(stores, hasher, acme, "bob", "member")
    carol = await member(stores, hasher, acme, "carol", "viewer")
    for actor in (bob, carol):
        with pytest.raises(Forbidden):
            await orgs.update(stores, actor, name="Mine", slug=None, peer=PEER)
        with pytest.raises(Forbidden):
            await orgs.change_role(stores, actor, carol.user_id, "admin", PEER)
        with pytest.raises(Forbidden):
            await orgs.remove_member(stores, actor, acme.user_id, PEER)
    assert len(await orgs.members(stores, carol)) == 3


async def test_an_admin_cannot_touch_owners_nor_make_one(
    stores: MemoryStores, hasher: Hasher, acme: Membership
) -> None:
    admin = await member(stores, hasher, acme, "admin1", "admin")
    bob = await member(stores, hasher, acme, "bob", "member")
    with pytest.raises(Forbidden):
        await orgs.change_role(stores, admin, bob.user_id, "owner", PEER)
    with pytest.raises(Forbidden):
        await orgs.change_role(stores, admin, acme.user_id, "member", PEER)
    with pytest.raises(Forbidden):
        await orgs.remove_member(stores, admin, acme.user_id, PEER)
    with pytest.raises(Forbidden):
        await orgs.delete(stores, admin, PEER)
    with pytest.raises(Forbidden):
        await orgs.invite(
            stores,
            admin,
            email="x@example.com",
            role="owner",
            mailing=MAILING,
            accounts=False,
            peer=PEER,
        )
    changed = await orgs.change_role(stores, admin, bob.user_id, "viewer", PEER)
    assert changed.role == "viewer"
    assert stores.audit.events[-1].details == {"from": "member", "to": "viewer"}


async def test_the_last_owner_stays(
    stores: MemoryStores, hasher: Hasher, acme: Membership
) -> None:
    with pytest.raises(Conflict, match="needs an owner"):
        await orgs.change_role(stores, acme, acme.user_id, "admin", PEER)
    with pytest.raises(Conflict):
        await orgs.remove_member(stores, acme, acme.user_id, PEER)  # leaving
    other = await member(stores, hasher, acme, "other", "owner")
    await orgs.change_role(stores, other, acme.user_id, "member", PEER)
    assert await stores.orgs.count_owners(acme.org.id) == 1


async def test_a_demoted_actor_is_judged_on_their_new_role(
    stores: MemoryStores, hasher: Hasher, acme: Membership
) -> None:
    admin = await member(stores, hasher, acme, "admin1", "admin")
    bob = await member(stores, hasher, acme, "bob", "member")
    await orgs.change_role(stores, acme, admin.user_id, "member", PEER)
    with pytest.raises(Forbidden):  # ``admin`` still says admin: re-read
        await orgs.remove_member(stores, admin, bob.user_id, PEER)


async def test_anyone_may_leave_and_their_default_is_cleared(
    stores: MemoryStores, hasher: Hasher, acme: Membership
) -> None:
    carol = await member(stores, hasher, acme, "carol", "viewer")
    user = await stores.users.get(carol.user_id)
    assert user is not None
    assert user.default_org_id == acme.org.id
    await orgs.remove_member(stores, carol, carol.user_id, PEER)
    user = await stores.users.get(carol.user_id)
    assert user is not None
    assert user.default_org_id is None
    assert stores.audit.events[-1].action == audit.Action.MEMBER_LEFT


async def test_an_invite_is_for_its_address_only(
    stores: MemoryStores, hasher: Hasher, acme: Membership
) -> None:
    bob = await register(
        stores, hasher, "bob", email="bob@example.com", email_verified=True
    )
    _, code = await orgs.invite(
        stores,
        acme,
        email="Carol@Example.com",
        role="member",
        mailing=MAILING,
        accounts=False,
        peer=PEER,
    )
    with pytest.raises(
        Forbidden, match=r"sent to C•••@example\.com, not to your account"
    ):
        await orgs.accept(stores, code, user=bob, peer=PEER)
    carol = await register(
        stores, hasher, "carol", email="carol@EXAMPLE.com", email_verified=True
    )
    joined = await orgs.accept(stores, code, user=carol, peer=PEER)
    assert joined.role == "member"
    with pytest.raises(Forbidden):  # used up
        await orgs.accept(stores, code, user=carol, peer=PEER)


async def test_a_declined_invite_is_revoked(
    stores: MemoryStores, hasher: Hasher, acme: Membership
) -> None:
    bob = await register(
        stores, hasher, "bob", email="bob@example.com", email_verified=True
    )
    _, code = await orgs.invite(
        stores,
        acme,
        email="bob@example.com",
        role="member",
        mailing=MAILING,
        accounts=False,
        peer=PEER,
    )
    await orgs.decline(stores, code, user=bob, peer=PEER)
    with pytest.raises(Forbidden):
        await orgs.accept(stores, code, user=bob, peer=PEER)
    assert await stores.orgs.membership(acme.org.id, bob.id) is None


async def test_a_member_cannot_join_twice(
    stores: MemoryStores, hasher: Hasher, acme: Membership
) -> None:
    bob = await member(stores, hasher, acme, "bob", "member")
    _, code = await orgs.invite(
        stores,
        acme,
        email="bob@example.com",
        role="admin",
        mailing=MAILING,
        accounts=False,
        peer=PEER,
    )
    user = await stores.users.get(bob.user_id)
    assert user is not None
    with pytest.raises(Conflict, match="already a member"):
        await orgs.accept(stores, code, user=user, peer=PEER)


async def test_deleting_revokes_the_orgs_keys_and_evicts_its_members(
    stores: MemoryStores, hasher: Hasher, acme: Membership
) -> None:
    bob = await member(stores, hasher, acme, "bob", "member")
    key, _ = await credentials.issue(
        stores,
        kind="key",
        prefix="ag",
        user_id=bob.user_id,
        name="deploy",
        scopes=("read",),
        expires_at=None,
        org_id=acme.org.id,
        peer=PEER,
    )
    await orgs.delete(stores, acme, PEER)
    assert await stores.orgs.find(acme.org.id) is None
    assert await stores.credentials.list_for_user(bob.user_id, "key") == []
    assert {acme.org.id, acme.user_id, bob.user_id, key.id} <= set(stores.invalidated)
    with pytest.raises(NotFound):
        await orgs.access(stores, acme.org.id, bob.user_id)


async def test_a_token_says_its_org_and_role_there(acme: Membership) -> None:
    assert orgs.claims(acme) == {"org": acme.org.id, "roles": ["owner"]}
    assert orgs.claims(None) == {}


async def test_only_an_owner_may_require_a_second_factor(
    stores: MemoryStores, hasher: Hasher, acme: Membership
) -> None:
    admin = await member(stores, hasher, acme, "admin1", "admin")
    with pytest.raises(Forbidden):
        await orgs.update(
            stores, admin, name=None, slug=None, require_mfa=True, peer=PEER
        )
    renamed = await orgs.update(stores, admin, name="Acme 2", slug=None, peer=PEER)
    assert not renamed.require_mfa  # an admin's rename leaves the rule alone
    owner = await orgs.access(stores, acme.org.id, acme.user_id)
    with pytest.raises(Conflict, match="for yourself first"):
        await orgs.update(
            stores, owner, name=None, slug=None, require_mfa=True, peer=PEER
        )
    user = await stores.users.get(acme.user_id)
    assert user is not None
    await with_app(stores, user)
    updated = await orgs.update(
        stores, owner, name=None, slug=None, require_mfa=True, peer=PEER
    )
    assert updated.require_mfa
    stored = await stores.orgs.find(acme.org.id)
    assert stored is not None
    assert stored.require_mfa
    assert stores.audit.events[-1].details == {
        "name": "Acme 2",
        "slug": acme.org.slug,
        "require_mfa": True,
    }


async def test_a_member_without_a_factor_does_not_act_in_an_org_requiring_one(
    stores: MemoryStores, hasher: Hasher, acme: Membership
) -> None:
    owner = await stores.users.get(acme.user_id)
    assert owner is not None
    await with_app(stores, owner)
    bob = await member(stores, hasher, acme, "bob", "member")
    await orgs.update(stores, acme, name=None, slug=None, require_mfa=True, peer=PEER)
    assert await orgs.acting(stores, acme.org.id, bob.user_id) is None
    with pytest.raises(MfaEnrollmentRequired, match="requires a second factor"):
        await orgs.access(stores, acme.org.slug, bob.user_id)
    bob_user = await stores.users.get(bob.user_id)
    assert bob_user is not None
    await with_app(stores, bob_user)
    found = await orgs.access(stores, acme.org.slug, bob.user_id, read_only=True)
    assert found.role == "viewer"
    assert await orgs.acting(stores, acme.org.id, bob.user_id) is not None
