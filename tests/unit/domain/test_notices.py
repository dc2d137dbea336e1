"""Notices: which kinds go out, to whom, and when none does."""

from dataclasses import replace
from datetime import timedelta

import pytest

from authgate.domain import (
    account,
    factors,
    mail,
    notices,
    recovery,
    sessions,
    users,
    verification,
)
from authgate.domain.context import Peer
from authgate.domain.credentials import Credential
from authgate.domain.notices import Kind
from authgate.domain.passwords import Hasher
from authgate.mail.compose import Composer
from authgate.util import clock
from tests.support.memory import MemoryStores
from tests.unit.domain.conftest import (
    ACCESS_TTL,
    MAILING,
    NOTICES,
    PASSWORD,
    PEER,
    SESSION_POLICY,
    register,
)

pytestmark = pytest.mark.anyio

OFF = replace(NOTICES, kinds=frozenset())
PHONE = Peer(ip="192.0.2.1", user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)")
ELSEWHERE = Peer(ip="198.51.100.7", user_agent=PEER.user_agent)


def sent(stores: MemoryStores) -> list[mail.Message]:
    opened = [mail.unseal(MAILING.sealer, q) for q in stores.mail.rows]
    return [m for m in opened if m is not None]


def kinds(stores: MemoryStores) -> list[str]:
    return [m.template for m in sent(stores)]


async def verified(stores: MemoryStores, hasher: Hasher) -> users.User:
    return await register(
        stores, hasher, "ada", email="ada@example.com", email_verified=True
    )


async def sign_in(
    stores: MemoryStores, user: users.User, peer: Peer, policy: notices.Policy = NOTICES
) -> bool:
    started = await sessions.start(
        stores, SESSION_POLICY, user_id=user.id, prefix="ag", peer=peer, amr=("pwd",)
    )
    return await notices.signed_in(stores, policy, started.session, peer)


async def test_a_notice_goes_to_the_verified_address_with_no_secret(
    stores: MemoryStores, hasher: Hasher
) -> None:
    ada = await verified(stores, hasher)
    assert await notices.send(stores, NOTICES, Kind.PASSWORD_CHANGED, ada, peer=PEER)
    [told] = sent(stores)
    assert (told.to, told.template) == ("ada@example.com", "password_changed")
    assert told.values["ip"] == "192.0.2.1"
    assert told.values["device"] == "Firefox/Linux"
    assert told.values["sessions_link"] == "https://auth.example/settings/sessions"
    assert not any("ag_" in value for value in told.values.values())


async def test_a_kind_turned_off_sends_nothing(
    stores: MemoryStores, hasher: Hasher
) -> None:
    ada = await verified(stores, hasher)
    only = replace(NOTICES, kinds=frozenset({Kind.NEW_SIGN_IN}))
    assert not await notices.send(stores, only, Kind.PASSWORD_CHANGED, ada)
    assert not await notices.send(stores, OFF, Kind.NEW_SIGN_IN, ada)
    assert sent(stores) == []


async def test_an_address_nobody_proved_is_told_nothing(
    stores: MemoryStores, hasher: Hasher
) -> None:
    bob = await register(stores, hasher, "bob", email="bob@example.com")
    nobody = await register(stores, hasher, "nobody")
    for user in (bob, nobody):
        assert not await notices.send(stores, NOTICES, Kind.PASSWORD_CHANGED, user)
    assert not await notices.send(stores, NOTICES, Kind.PASSWORD_CHANGED, "usr_gone")
    assert sent(stores) == []


async def test_a_new_device_or_place_is_told_of_a_known_one_is_not(
    stores: MemoryStores, hasher: Hasher
) -> None:
    ada = await verified(stores, hasher)
    # The first sign-in has nothing to compare with.
    assert not await sign_in(stores, ada, PEER)
    assert not await sign_in(stores, ada, PEER)
    assert await sign_in(stores, ada, PHONE)
    assert await sign_in(stores, ada, ELSEWHERE)
    [phone, elsewhere] = sent(stores)
    assert (phone.template, phone.values["device"]) == ("new_sign_in", "Browser/iOS")
    assert elsewhere.values["ip"] == "198.51.100.7"
    # Known now, even once its sessions have ended (they are still on record).
    await stores.sessions.revoke_all_for_user(ada.id, clock.now(), "logout")
    assert not await sign_in(stores, ada, PHONE)
    assert not await sign_in(stores, ada, PHONE, OFF)


async def test_a_place_is_its_location_when_known(
    stores: MemoryStores, hasher: Hasher
) -> None:
    ada = await verified(stores, hasher)
    located = replace(NOTICES, locate=lambda ip: "Lyon, France" if ip else None)
    assert not await sign_in(stores, ada, PEER, located)
    # Another IP in the same place, from the same device: nothing new.
    assert not await sign_in(stores, ada, ELSEWHERE, located)
    assert sent(stores) == []


async def test_a_password_change_is_told(stores: MemoryStores, hasher: Hasher) -> None:
    ada = await verified(stores, hasher)
    confirmed = await account.confirm_password(hasher, ada, PASSWORD)
    await account.change_password(
        stores,
        confirmed,
        await hasher.hash("another good password"),
        session_id=None,
        access_ttl=ACCESS_TTL,
        peer=PEER,
        notify=NOTICES,
    )
    await account.replace_password(
        stores,
        NOTICES,
        ada,
        await hasher.hash("a third good password"),
        actor_id="usr_admin",
        access_ttl=ACCESS_TTL,
        peer=PEER,
    )
    [by_them, by_admin] = sent(stores)
    assert by_them.template == by_admin.template == "password_changed"
    assert (by_them.values["by_admin"], by_admin.values["by_admin"]) == ("", "yes")


async def test_a_recovery_key_used_is_told(
    stores: MemoryStores, hasher: Hasher
) -> None:
    ada = await verified(stores, hasher)
    confirmed = await account.confirm_password(hasher, ada, PASSWORD)
    key = await recovery.issue(stores, confirmed, prefix="ag", peer=PEER)
    assert await recovery.recover(
        stores,
        hasher,
        username="ada",
        key=key,
        new_password="another good password",
        min_length=8,
        access_ttl=ACCESS_TTL,
        peer=PEER,
        notify=NOTICES,
    )
    changed, told = sent(stores)
    assert changed.template == "password_changed"
    assert (told.template, told.values["what"]) == ("recovery_used", "key")


async def test_an_admin_reset_of_factors_is_told(
    stores: MemoryStores, hasher: Hasher
) -> None:
    ada = await verified(stores, hasher)
    await factors.reset(
        stores,
        ada.id,
        actor_id="usr_admin",
        access_ttl=ACCESS_TTL,
        peer=PEER,
        notify=NOTICES,
    )
    [told] = sent(stores)
    assert (told.template, told.values["what"]) == ("factor_removed", "all")


async def pat(stores: MemoryStores, user: users.User, expires_in: timedelta) -> str:
    now = clock.now()
    token = Credential(
        id=f"pat_{len(stores.credentials.rows)}",
        kind="pat",
        user_id=user.id,
        name="deploy",
        display_prefix="ag_pat_x",
        scopes=("read",),
        created_at=now,
        expires_at=now + expires_in,
    )
    await stores.credentials.add(token, token.id)
    return token.id


async def test_a_token_expiring_soon_is_told_of_once(
    stores: MemoryStores, hasher: Hasher
) -> None:
    ada = await verified(stores, hasher)
    soon = await pat(stores, ada, timedelta(days=3))
    await pat(stores, ada, timedelta(days=30))
    assert await notices.expiring(stores, OFF, limit=10) == 0
    assert await notices.expiring(stores, NOTICES, limit=10) == 1
    assert await notices.expiring(stores, NOTICES, limit=10) == 0
    [told] = sent(stores)
    assert (told.template, told.values["token_name"]) == ("token_expiring", "deploy")
    assert told.values["tokens_link"] == "https://auth.example/settings/tokens"
    assert stores.credentials.rows[soon].expiry_noticed_at is not None
    # The other one, once it is due.
    clock.advance(timedelta(days=24).total_seconds())
    assert await notices.expiring(stores, NOTICES, limit=10) == 1
    assert len(sent(stores)) == 2


async def test_a_revoked_or_expired_token_is_not_told_of(
    stores: MemoryStores, hasher: Hasher
) -> None:
    ada = await verified(stores, hasher)
    revoked = await pat(stores, ada, timedelta(days=3))
    await stores.credentials.revoke(revoked, clock.now())
    await pat(stores, ada, timedelta(days=1))
    clock.advance(timedelta(days=2).total_seconds())
    assert await notices.expiring(stores, NOTICES, limit=10) == 0
    assert sent(stores) == []


def test_the_setting_names_every_kind() -> None:
    from typing import get_args

    from authgate.config import MailNotice

    assert set(get_args(MailNotice)) == {kind.value for kind in Kind}


async def test_an_old_address_nobody_proved_is_not_told_of_the_change(
    stores: MemoryStores, hasher: Hasher
) -> None:
    bob = await register(stores, hasher, "bob", email="bob@example.com")
    await account.change_email(stores, MAILING, bob, "bob@new.example", peer=PEER)
    [link] = sent(stores)
    token = link.values["link"].split("token=")[1]
    await verification.confirm(stores, NOTICES, token, peer=PEER)
    assert kinds(stores) == ["verify_email"]


#: what each kind adds to the values every notice has
EXTRA = {
    Kind.NEW_SIGN_IN: {},
    Kind.PASSWORD_CHANGED: {"by_admin": "yes"},
    Kind.EMAIL_CHANGED: {"old_email": "ada@example.com", "new_email": "a@b.example"},
    Kind.FACTOR_ADDED: {"what": factors.WEBAUTHN},
    Kind.FACTOR_REMOVED: {"what": factors.TOTP},
    Kind.RECOVERY_USED: {"what": "code"},
    Kind.TOKEN_EXPIRING: {"token_name": "deploy", "expires": "9 December 2026"},
    Kind.ACCOUNT_DELETED: {"by_admin": "yes"},
}


@pytest.mark.parametrize("kind", list(Kind))
async def test_each_kind_says_what_when_from_where_and_what_to_do(
    stores: MemoryStores, hasher: Hasher, kind: Kind
) -> None:
    ada = await verified(stores, hasher)
    located = replace(NOTICES, locate=lambda _ip: "Lyon, France")
    extra = EXTRA[kind] | (
        {"tokens_link": "https://auth.example/settings/tokens"}
        if kind == Kind.TOKEN_EXPIRING
        else {}
    )
    assert await notices.send(stores, located, kind, ada, peer=PEER, values=extra)
    [message] = sent(stores)
    composer = Composer(
        sender="Authgate <a@auth.example>",
        site="https://auth.example",
        host="auth.example",
    )
    mail_ = composer.compose(message, "msg_1", clock.now())
    assert mail_["Subject"].strip()
    for part in ("plain", "html"):
        body = mail_.get_body((part,))
        assert body is not None
        content = body.get_content()
        for value in ("Hello ada", "192.0.2.1", "Firefox/Linux", "Lyon, France"):
            assert value in content
        assert notices.when(clock.now()) in content
        if kind == Kind.TOKEN_EXPIRING:
            assert "https://auth.example/settings/tokens" in content
            assert "deploy" in content
        elif kind == Kind.ACCOUNT_DELETED:
            # No account is left to look at: the advice is whom to ask.
            assert "An administrator deleted your Authgate account" in content
            assert "ask your administrator" in content
            assert "/settings/" not in content
        else:
            assert "https://auth.example/settings/sessions" in content
