"""Who may create an account: the first person (as admin), an invite holder,
anyone when registration is open; an org invite only where allowed."""

from datetime import UTC, datetime

import pytest

from authgate.domain import audit, invites, orgs, registration, users
from authgate.domain.allowlist import Allowlist
from authgate.domain.passwords import Hasher
from authgate.errors import Forbidden, SignInRefused
from tests.support.memory import MemoryStores
from tests.unit.domain.conftest import MAILING, PASSWORD, PEER, register

pytestmark = pytest.mark.anyio

CLIENT_TIME = datetime(2030, 1, 1, tzinfo=UTC)
CLOSED = registration.Rules(invite_code=None, allow_registration=False)


async def sign_up(
    stores: MemoryStores,
    hasher: Hasher,
    username: str,
    rules: registration.Rules = CLOSED,
    email: str | None = None,
) -> users.User:
    account = await users.prepare(
        hasher, username=username, password=PASSWORD, email=email, min_length=8
    )
    return await registration.register(stores, account, rules, MAILING, peer=PEER)


async def test_the_first_account_is_the_administrator(
    stores: MemoryStores, hasher: Hasher
) -> None:
    first = await sign_up(stores, hasher, "root")
    assert first.is_admin
    with pytest.raises(Forbidden, match="needs an invite code"):
        await sign_up(stores, hasher, "second")
    open_rules = registration.Rules(invite_code=None, allow_registration=True)
    assert not (await sign_up(stores, hasher, "second", open_rules)).is_admin


async def test_an_instance_invite_admits_one_account(
    stores: MemoryStores, hasher: Hasher
) -> None:
    root = await sign_up(stores, hasher, "root")
    invite, code = await invites.create(
        stores, prefix="ag", created_by=root.id, expires_in_days=7, peer=PEER
    )
    rules = registration.Rules(invite_code=code, allow_registration=False)
    alice = await sign_up(stores, hasher, "alice", rules)
    stored = await stores.invites.get(invite.id)
    assert stored is not None
    assert stored.used_by == alice.id
    with pytest.raises(Forbidden):
        await sign_up(stores, hasher, "bob", rules)


async def org_invite_code(stores: MemoryStores, hasher: Hasher) -> str:
    root = await register(stores, hasher, "root", is_admin=True)
    acme = await orgs.create(stores, user_id=root.id, name="Acme", slug=None, peer=PEER)
    _, code = await orgs.invite(
        stores,
        acme,
        email="bob@example.com",
        role="member",
        mailing=MAILING,
        accounts=False,
        peer=PEER,
    )
    return code


async def test_an_org_invite_makes_no_account_unless_allowed(
    stores: MemoryStores, hasher: Hasher
) -> None:
    code = await org_invite_code(stores, hasher)
    rules = registration.Rules(invite_code=code, allow_registration=False)
    with pytest.raises(Forbidden, match="does not create accounts"):
        await sign_up(stores, hasher, "bob", rules, email="bob@example.com")
    allowing = registration.Rules(
        invite_code=code, allow_registration=False, org_invites_create_accounts=True
    )
    with pytest.raises(
        Forbidden, match=r"sent to b•••@example\.com: register with that address"
    ):
        await sign_up(stores, hasher, "eve", allowing, email="eve@example.com")
    bob = await sign_up(stores, hasher, "bob", allowing)  # gets the invite's address
    assert bob.email == "bob@example.com"
    [membership] = await stores.orgs.memberships(bob.id)
    assert membership.role == "member"
    assert stores.audit.actions()[-2:] == [
        audit.Action.INVITE_USED,
        audit.Action.MEMBER_JOINED,
    ]


async def test_the_allowlist_holds_for_the_first_account_too(
    stores: MemoryStores, hasher: Hasher
) -> None:
    rules = registration.Rules(
        invite_code=None,
        allow_registration=True,
        allowlist=Allowlist.parse(["@example.com"]),
    )
    with pytest.raises(SignInRefused):
        await sign_up(stores, hasher, "root", rules)
    with pytest.raises(SignInRefused):
        await sign_up(stores, hasher, "root", rules, email="root@example.org")
    assert (await sign_up(stores, hasher, "root", rules, "root@example.com")).is_admin


def test_may_create_account() -> None:
    org_invite = invites.Invite(
        id="inv_1", created_by=None, created_at=CLIENT_TIME, expires_at=None, org_id="o"
    )
    instance_invite = invites.Invite(
        id="inv_2", created_by=None, created_at=CLIENT_TIME, expires_at=None
    )

    def may(invite: invites.Invite | None, **rules: bool) -> bool:
        values = {
            "first": False,
            "allow_registration": False,
            "org_invites_create_accounts": False,
            **rules,
        }
        return registration.may_create_account(invite, **values)

    assert may(None, first=True)
    assert may(None, allow_registration=True)
    assert not may(None)
    assert may(instance_invite)
    assert not may(org_invite)
    assert may(org_invite, org_invites_create_accounts=True)
