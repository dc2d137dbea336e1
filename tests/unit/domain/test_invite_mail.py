"""Invites by email: the message and its link, the proof it carries, and who
may answer an invite that names an address."""

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from authgate.domain import invite_mail, invites, mail, orgs, registration, users
from authgate.domain.passwords import Hasher
from authgate.domain.sealing import Sealer
from authgate.domain.verification import Mailing
from authgate.errors import Forbidden
from tests.support.memory import MemoryStores
from tests.unit.domain.conftest import MAILING, PASSWORD, PEER, register

pytestmark = pytest.mark.anyio

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def sent(stores: MemoryStores) -> list[mail.Message]:
    opened = [mail.unseal(MAILING.sealer, q) for q in stores.mail.rows]
    return [m for m in opened if m is not None]


def query(link: str) -> dict[str, str]:
    return {k: v for k, [v] in parse_qs(urlsplit(link).query).items()}


async def sign_up(
    stores: MemoryStores,
    hasher: Hasher,
    username: str,
    rules: registration.Rules,
    email: str | None = None,
) -> users.User:
    account = await users.prepare(
        hasher, username=username, password=PASSWORD, email=email, min_length=8
    )
    return await registration.register(stores, account, rules, MAILING, peer=PEER)


def test_an_address_is_masked() -> None:
    assert invites.mask("alice@example.com") == "a•••@example.com"


def test_only_the_verified_invited_address_answers() -> None:
    invite = invites.Invite(
        id="inv_1",
        created_by=None,
        created_at=NOW,
        expires_at=None,
        email="Bob@example.com",
    )
    invites.check_acceptor(invite, "bob@EXAMPLE.com", verified=True)
    with pytest.raises(Forbidden, match=r"sent to B•••@example.com: verify"):
        invites.check_acceptor(invite, "Bob@example.com", verified=False)
    with pytest.raises(Forbidden, match=r"sent to B•••@example.com, not to your"):
        invites.check_acceptor(invite, "eve@example.com", verified=True)
    with pytest.raises(Forbidden, match=r"not to your"):
        invites.check_acceptor(invite, None, verified=False)
    anyone = invites.Invite(
        id="inv_2",
        created_by=None,
        created_at=NOW,
        expires_at=None,
    )
    invites.check_acceptor(anyone, None, verified=False)


async def test_an_instance_invite_without_an_address_mails_nothing(
    stores: MemoryStores, hasher: Hasher
) -> None:
    await invite_mail.create(
        stores, MAILING, created_by=None, expires_in_days=None, email="", peer=PEER
    )
    assert stores.mail.rows == []


async def test_an_instance_invite_is_mailed_with_a_link_to_register(
    stores: MemoryStores, hasher: Hasher
) -> None:
    root = await register(stores, hasher, "root", is_admin=True)
    invite, code = await invite_mail.create(
        stores,
        MAILING,
        created_by=root.id,
        expires_in_days=3,
        email=" Bob@Example.COM ",
        peer=PEER,
    )
    assert invite.email == "Bob@example.com"
    [message] = sent(stores)
    assert (message.to, message.template) == ("Bob@example.com", "invite")
    assert message.values["inviter"] == "root"
    assert message.values["expires"]
    link = message.values["link"]
    assert link.startswith("https://auth.example/register?")
    assert query(link)["invite"] == code
    assert invite_mail.proven(MAILING, invite, query(link)["proof"])


async def test_a_proof_holds_for_its_invite_and_key_only(
    stores: MemoryStores, hasher: Hasher
) -> None:
    first, _ = await invite_mail.create(
        stores, MAILING, created_by=None, expires_in_days=3, email="a@x.org", peer=PEER
    )
    second, _ = await invite_mail.create(
        stores, MAILING, created_by=None, expires_in_days=3, email="a@x.org", peer=PEER
    )
    proof = query(sent(stores)[0].values["link"])["proof"]
    assert invite_mail.proven(MAILING, first, proof)
    assert not invite_mail.proven(MAILING, second, proof)
    assert not invite_mail.proven(MAILING, first, proof[:-2])
    assert not invite_mail.proven(MAILING, first, None)
    other_key = Mailing(Sealer(b"o" * 32), "ag", "https://auth.example")
    assert not invite_mail.proven(other_key, first, proof)


async def test_registering_through_the_link_verifies_the_address(
    stores: MemoryStores, hasher: Hasher
) -> None:
    await register(stores, hasher, "root", is_admin=True)
    _, code = await invite_mail.create(
        stores,
        MAILING,
        created_by=None,
        expires_in_days=3,
        email="bob@x.org",
        peer=PEER,
    )
    proof = query(sent(stores)[0].values["link"])["proof"]
    rules = registration.Rules(code, False, invite_proof=proof)
    with pytest.raises(Forbidden, match=r"sent to b•••@x.org: register with"):
        await sign_up(stores, hasher, "eve", rules, email="eve@x.org")
    bob = await sign_up(stores, hasher, "bob", rules)
    assert (bob.email, bob.email_verified) == ("bob@x.org", True)
    # Verified already: no verification link follows the invite.
    assert [m.template for m in sent(stores)] == ["invite"]


async def test_the_code_alone_leaves_the_address_to_verify(
    stores: MemoryStores, hasher: Hasher
) -> None:
    """Whoever made the invite holds the code: it proves no address."""
    await register(stores, hasher, "root", is_admin=True)
    _, code = await invite_mail.create(
        stores,
        MAILING,
        created_by=None,
        expires_in_days=3,
        email="bob@x.org",
        peer=PEER,
    )
    bob = await sign_up(stores, hasher, "bob", registration.Rules(code, False))
    assert (bob.email, bob.email_verified) == ("bob@x.org", False)
    assert [m.template for m in sent(stores)] == ["invite", "verify_email"]


async def test_an_org_invite_is_mailed_and_answered_by_a_verified_address(
    stores: MemoryStores, hasher: Hasher
) -> None:
    owner = await register(stores, hasher, "owner")
    acme = await orgs.create(
        stores, user_id=owner.id, name="Acme", slug=None, peer=PEER
    )
    invite, code = await orgs.invite(
        stores,
        acme,
        email="bob@x.org",
        role="member",
        mailing=MAILING,
        accounts=True,
        peer=PEER,
    )
    [message] = sent(stores)
    assert (message.to, message.template) == ("bob@x.org", "org_invite")
    assert message.values["org"] == "Acme"
    assert message.values["inviter"] == "owner"
    assert (
        message.values["link"]
        == f"https://auth.example/settings/orgs/accept?code={code}"
    )
    assert query(message.values["register_link"])["invite"] == code
    unverified = await register(stores, hasher, "bob", email="bob@x.org")
    with pytest.raises(Forbidden, match="verify that address first"):
        await orgs.accept(stores, code, user=unverified, peer=PEER)
    with pytest.raises(Forbidden, match="verify that address first"):
        await orgs.decline(stores, code, user=unverified, peer=PEER)
    stored = await stores.invites.get(invite.id)
    assert stored is not None
    assert stored.status == "unused"


async def test_an_org_invite_that_makes_no_account_links_to_no_registration(
    stores: MemoryStores, hasher: Hasher
) -> None:
    owner = await register(stores, hasher, "owner")
    acme = await orgs.create(
        stores, user_id=owner.id, name="Acme", slug=None, peer=PEER
    )
    await orgs.invite(
        stores,
        acme,
        email="bob@x.org",
        role="member",
        mailing=MAILING,
        accounts=False,
        peer=PEER,
    )
    [message] = sent(stores)
    assert message.values["register_link"] == ""
