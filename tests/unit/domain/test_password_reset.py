"""Password reset by mailed link: a link only to an active account's verified
address, a note to any other, used once within 30 minutes; the new password
ends every login and tells the address."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from authgate.domain import audit, mail, password_reset, sessions, users
from authgate.domain.passwords import Hasher
from authgate.errors import InvalidRequest, WeakPassword
from authgate.util import clock
from tests.support.memory import MemoryStores
from tests.unit.domain.conftest import (
    ACCESS_TTL,
    MAILING,
    PEER,
    SESSION_POLICY,
    register,
)

pytestmark = pytest.mark.anyio

NEW_PASSWORD = "a completely new passphrase"


def sent(stores: MemoryStores) -> list[mail.Message]:
    opened = [mail.unseal(MAILING.sealer, q) for q in stores.mail.rows]
    return [m for m in opened if m is not None]


def token_in(message: mail.Message) -> str:
    link = urlsplit(message.values["link"])
    assert (link.scheme, link.netloc, link.path) == (
        "https",
        "auth.example",
        "/reset",
    )
    [token] = parse_qs(link.query)["token"]
    return token


async def ask(stores: MemoryStores, address: str) -> mail.Message:
    before = len(sent(stores))
    await password_reset.request(stores, MAILING, address, peer=PEER)
    [message] = sent(stores)[before:]
    return message


async def reset(
    stores: MemoryStores, hasher: Hasher, token: str, password: str = NEW_PASSWORD
) -> users.User:
    return await password_reset.reset(
        stores,
        hasher,
        MAILING.sealer,
        secret=token,
        new_password=password,
        min_length=8,
        access_ttl=ACCESS_TTL,
        peer=PEER,
    )


async def test_a_verified_address_gets_a_link_that_resets_once(
    stores: MemoryStores, hasher: Hasher
) -> None:
    ada = await register(
        stores, hasher, "ada", email="ada@example.com", email_verified=True
    )
    await sessions.start(
        stores, SESSION_POLICY, user_id=ada.id, prefix="ag", peer=PEER, amr=("pwd",)
    )
    message = await ask(stores, "Ada@Example.com")
    assert message.to == "ada@example.com"  # as the account holds it
    assert (message.template, message.values["username"]) == ("reset_password", "ada")
    token = token_in(message)
    assert token.startswith("ag_evt_")
    await reset(stores, hasher, token)
    stored = await stores.users.get(ada.id)
    assert stored is not None
    assert await hasher.verify(stored.password_hash, NEW_PASSWORD)
    assert await stores.sessions.list_for_user(ada.id) == []
    notice = sent(stores)[-1]
    assert (notice.to, notice.template) == ("ada@example.com", "password_changed")
    assert {
        audit.Action.PASSWORD_RESET_REQUESTED,
        audit.Action.PASSWORD_RESET,
        audit.Action.PASSWORD_RESET_USED,
    } <= set(stores.audit.actions())
    with pytest.raises(InvalidRequest) as again:
        await reset(stores, hasher, token, "yet another passphrase")
    assert again.value.description == password_reset.LINK_INVALID


@pytest.mark.parametrize("case", ["unknown", "unverified", "disabled"])
async def test_any_other_address_gets_a_note_and_no_link(
    stores: MemoryStores, hasher: Hasher, case: str
) -> None:
    if case != "unknown":
        ada = await register(
            stores,
            hasher,
            "ada",
            email="ada@example.com",
            email_verified=case == "disabled",
        )
        if case == "disabled":
            await users.set_active(
                stores, ada.id, False, actor_id=None, access_ttl=ACCESS_TTL, peer=PEER
            )
    message = await ask(stores, "ada@example.com")
    assert (message.to, message.template) == ("ada@example.com", "reset_unknown")
    assert "link" not in message.values
    assert stores.email_tokens.rows == {}
    [event] = [
        e
        for e in stores.audit.events
        if e.action == audit.Action.PASSWORD_RESET_REQUESTED
    ]
    assert (event.target_id, event.details) == (None, {"email": "ada@example.com"})


async def test_a_link_lasts_30_minutes_and_a_new_one_voids_it(
    stores: MemoryStores, hasher: Hasher
) -> None:
    await register(stores, hasher, "ada", email="ada@example.com", email_verified=True)
    first = token_in(await ask(stores, "ada@example.com"))
    second = token_in(await ask(stores, "ada@example.com"))
    with pytest.raises(InvalidRequest):
        await reset(stores, hasher, first)
    clock.advance(timedelta(minutes=30, seconds=1).total_seconds())
    with pytest.raises(InvalidRequest):
        await reset(stores, hasher, second)


async def test_a_weak_password_is_refused_before_the_link_is_used(
    stores: MemoryStores, hasher: Hasher
) -> None:
    await register(stores, hasher, "ada", email="ada@example.com", email_verified=True)
    token = token_in(await ask(stores, "ada@example.com"))
    with pytest.raises(WeakPassword):
        await reset(stores, hasher, token, "short")
    await reset(stores, hasher, token)


async def test_a_link_to_an_address_the_account_no_longer_has_is_refused(
    stores: MemoryStores, hasher: Hasher
) -> None:
    ada = await register(
        stores, hasher, "ada", email="ada@example.com", email_verified=True
    )
    token = token_in(await ask(stores, "ada@example.com"))
    await stores.users.set_email(ada.id, "ada@elsewhere.example", clock.now())
    with pytest.raises(InvalidRequest):
        await reset(stores, hasher, token)
