"""Verified addresses: a link mailed to the address proves it; a new address
waits for its own link while the old one stays, and the old one is told."""

from urllib.parse import parse_qs, urlsplit

import pytest

from authgate.domain import account, audit, mail, registration, users, verification
from authgate.domain.passwords import Hasher
from authgate.domain.users import User
from authgate.errors import Conflict, InvalidRequest
from authgate.mail.compose import Composer
from authgate.util import clock
from tests.support.memory import MemoryStores
from tests.unit.domain.conftest import MAILING, NOTICES, PASSWORD, PEER, register

pytestmark = pytest.mark.anyio

OPEN = registration.Rules(invite_code=None, allow_registration=True)


def sent(stores: MemoryStores) -> list[mail.Message]:
    opened = [mail.unseal(MAILING.sealer, q) for q in stores.mail.rows]
    return [m for m in opened if m is not None]


def token_in(message: mail.Message) -> str:
    link = urlsplit(message.values["link"])
    assert (link.scheme, link.netloc, link.path) == (
        "https",
        "auth.example",
        "/verify-email",
    )
    [token] = parse_qs(link.query)["token"]
    return token


async def stored(stores: MemoryStores, user: User) -> User:
    found = await stores.users.get(user.id)
    assert found is not None
    return found


async def sign_up(
    stores: MemoryStores, hasher: Hasher, username: str, email: str | None
) -> User:
    new = await users.prepare(
        hasher, username=username, password=PASSWORD, email=email, min_length=8
    )
    return await registration.register(stores, new, OPEN, MAILING, peer=PEER)


async def test_registering_mails_a_link_that_verifies_the_address_once(
    stores: MemoryStores, hasher: Hasher
) -> None:
    ada = await sign_up(stores, hasher, "ada", "ada@example.com")
    assert not ada.email_verified
    [message] = sent(stores)
    assert (message.to, message.template) == ("ada@example.com", "verify_email")
    assert message.values["username"] == "ada"
    verified = await verification.confirm(stores, NOTICES, token_in(message), peer=PEER)
    assert verified.email_verified
    assert (await stored(stores, ada)).email_verified
    assert stores.audit.events[-1].action == audit.Action.EMAIL_VERIFIED
    assert ada.id in stores.invalidated
    with pytest.raises(InvalidRequest, match="does not work any more"):
        await verification.confirm(stores, NOTICES, token_in(message), peer=PEER)


async def test_no_address_no_mail(stores: MemoryStores, hasher: Hasher) -> None:
    await sign_up(stores, hasher, "ada", None)
    assert stores.mail.rows == []


async def test_a_new_address_waits_for_its_link_and_the_old_one_is_told(
    stores: MemoryStores, hasher: Hasher
) -> None:
    ada = await register(
        stores, hasher, "ada", email="old@example.com", email_verified=True
    )
    sent_to = await account.change_email(
        stores, MAILING, ada, "new@example.com", peer=PEER
    )
    assert sent_to == "new@example.com"
    waiting = await stored(stores, ada)
    # Until the link is followed, the old address (and its verified state) stays.
    assert (waiting.email, waiting.email_verified, waiting.new_email) == (
        "old@example.com",
        True,
        "new@example.com",
    )
    assert stores.audit.events[-1].action == audit.Action.EMAIL_CHANGE_REQUESTED
    [link] = sent(stores)
    assert (link.to, link.values["changing"]) == ("new@example.com", "yes")

    moved = await verification.confirm(stores, NOTICES, token_in(link), peer=PEER)
    assert (moved.email, moved.email_verified, moved.new_email) == (
        "new@example.com",
        True,
        None,
    )
    assert moved == await stored(stores, ada)
    told = sent(stores)[-1]
    assert (told.to, told.template) == ("old@example.com", "email_changed")
    assert (told.values["old_email"], told.values["new_email"]) == (
        "old@example.com",
        "new@example.com",
    )
    assert stores.audit.actions()[-2:] == [
        audit.Action.EMAIL_CHANGED,
        audit.Action.EMAIL_VERIFIED,
    ]


async def test_an_address_taken_meanwhile_is_refused_and_nothing_moves(
    stores: MemoryStores, hasher: Hasher
) -> None:
    ada = await register(stores, hasher, "ada", email="ada@example.com")
    await account.change_email(stores, MAILING, ada, "both@example.com", peer=PEER)
    [link] = sent(stores)
    await register(stores, hasher, "bob", email="both@example.com")
    with pytest.raises(Conflict, match="now belongs to another account"):
        await verification.confirm(stores, NOTICES, token_in(link), peer=PEER)
    assert (await stored(stores, ada)).email == "ada@example.com"


async def test_only_the_latest_link_works(stores: MemoryStores, hasher: Hasher) -> None:
    ada = await register(stores, hasher, "ada", email="ada@example.com")
    await account.change_email(stores, MAILING, ada, "one@example.com", peer=PEER)
    ada = await stored(stores, ada)
    await account.change_email(stores, MAILING, ada, "two@example.com", peer=PEER)
    first, second = sent(stores)
    with pytest.raises(InvalidRequest):
        await verification.confirm(stores, NOTICES, token_in(first), peer=PEER)
    moved = await verification.confirm(stores, NOTICES, token_in(second), peer=PEER)
    assert moved.email == "two@example.com"


async def test_going_back_to_the_current_address_withdraws_the_new_one(
    stores: MemoryStores, hasher: Hasher
) -> None:
    ada = await register(stores, hasher, "ada", email="ada@example.com")
    await account.change_email(stores, MAILING, ada, "new@example.com", peer=PEER)
    ada = await stored(stores, ada)
    assert (
        await account.change_email(stores, MAILING, ada, "ada@example.com", peer=PEER)
        is None
    )
    assert (await stored(stores, ada)).new_email is None
    with pytest.raises(InvalidRequest):
        await verification.confirm(
            stores, NOTICES, token_in(sent(stores)[-1]), peer=PEER
        )


async def test_removing_the_address_voids_its_link(
    stores: MemoryStores, hasher: Hasher
) -> None:
    ada = await sign_up(stores, hasher, "ada", "ada@example.com")
    await account.change_email(stores, MAILING, ada, "", peer=PEER)
    removed = await stored(stores, ada)
    assert (removed.email, removed.email_verified_at) == (None, None)
    with pytest.raises(InvalidRequest):
        await verification.confirm(
            stores, NOTICES, token_in(sent(stores)[0]), peer=PEER
        )


async def test_resending_mails_a_new_link_and_voids_the_old_one(
    stores: MemoryStores, hasher: Hasher
) -> None:
    ada = await sign_up(stores, hasher, "ada", "ada@example.com")
    assert await verification.resend(stores, MAILING, ada) == "ada@example.com"
    first, second = sent(stores)
    with pytest.raises(InvalidRequest):
        await verification.confirm(stores, NOTICES, token_in(first), peer=PEER)
    verified = await verification.confirm(stores, NOTICES, token_in(second), peer=PEER)
    with pytest.raises(InvalidRequest, match="verified already"):
        await verification.resend(stores, MAILING, verified)
    nobody = await register(stores, hasher, "nobody")
    with pytest.raises(InvalidRequest, match="no email address"):
        await verification.resend(stores, MAILING, nobody)


async def test_an_administrator_may_vouch_for_an_address(
    stores: MemoryStores, hasher: Hasher
) -> None:
    async def create(name: str, email: str | None, vouched: bool) -> User:
        new = await users.prepare(
            hasher, username=name, password=PASSWORD, email=email, min_length=8
        )
        return await verification.add_account(
            stores,
            MAILING,
            new,
            is_admin=False,
            actor_id="usr_admin",
            peer=PEER,
            email_verified=vouched,
        )

    vouched = await create("ada", "ada@example.com", True)
    assert vouched.email_verified
    assert stores.mail.rows == []
    unvouched = await create("bob", "bob@example.com", False)
    assert not unvouched.email_verified
    assert [m.to for m in sent(stores)] == ["bob@example.com"]
    with pytest.raises(InvalidRequest, match="give one"):
        await create("carol", None, True)


@pytest.mark.parametrize("changing", [True, False])
async def test_the_messages_render_with_the_values_queued(
    stores: MemoryStores, hasher: Hasher, changing: bool
) -> None:
    """Every value a template uses is queued (StrictUndefined), and the link
    is in both the text and the HTML part."""
    ada = await register(stores, hasher, "ada", email="old@example.com")
    if changing:
        await account.change_email(stores, MAILING, ada, "new@example.com", peer=PEER)
        [link] = sent(stores)
        await verification.confirm(stores, NOTICES, token_in(link), peer=PEER)
    else:
        await verification.send(stores, MAILING, ada)
    composer = Composer(
        sender="Authgate <auth@example.com>",
        site="https://id.example",
        host="id.example",
    )
    for number, message in enumerate(sent(stores)):
        composed = composer.compose(message, f"msg_{number}", clock.now())
        text, html = (composed.get_body((kind,)) for kind in ("plain", "html"))
        assert text is not None
        assert html is not None
        assert composed["Subject"]
        if message.template == "verify_email":
            assert message.values["link"] in text.get_content()
            assert message.values["link"].replace("&", "&amp;") in html.get_content()
