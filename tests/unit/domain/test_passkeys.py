"""Passkey ceremonies on the in-memory stores, with a software authenticator."""

import os

import pytest

from authgate.domain import passkeys
from authgate.domain.audit import Action
from authgate.domain.passkeys import RelyingParty
from authgate.domain.sealing import Sealer
from authgate.errors import Conflict, InvalidRequest, NotFound
from authgate.util import clock
from tests.support.memory import MemoryStores
from tests.support.webauthn import SoftAuthenticator
from tests.unit.domain.conftest import PEER

pytestmark = pytest.mark.anyio

RP = RelyingParty(id="localhost", name="Authgate", origin="http://localhost:8000")
ALICE = "usr_alice"
BOB = "usr_bob"


@pytest.fixture
def sealer() -> Sealer:
    return Sealer(os.urandom(32))


def actions(stores: MemoryStores) -> list[str]:
    return [e.action for e in stores.audit.events]


async def enrol(
    stores: MemoryStores,
    sealer: Sealer,
    device: SoftAuthenticator,
    user_id: str = ALICE,
    name: str = "Laptop",
) -> passkeys.Passkey:
    ceremony = passkeys.begin_registration(
        sealer, RP, user_id=user_id, username=user_id, existing=[]
    )
    return await passkeys.register(
        stores,
        sealer,
        RP,
        user_id=user_id,
        ticket=ceremony.ticket,
        credential=device.create(ceremony.options, origin=RP.origin),
        name=name,
        peer=PEER,
    )


async def sign_in(
    stores: MemoryStores,
    sealer: Sealer,
    device: SoftAuthenticator,
    *,
    origin: str = RP.origin,
    rp_id: str | None = None,
) -> passkeys.Used | None:
    ceremony = passkeys.begin_sign_in(sealer, RP)
    return await passkeys.sign_in(
        stores,
        sealer,
        RP,
        ticket=ceremony.ticket,
        credential=device.get(ceremony.options, origin=origin, rp_id=rp_id),
        peer=PEER,
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://id.example.com",
            RelyingParty("id.example.com", "A", "https://id.example.com"),
        ),
        (
            "http://localhost:8000/",
            RelyingParty("localhost", "A", "http://localhost:8000"),
        ),
        (
            "HTTPS://ID.Example.com:443/auth",
            RelyingParty("id.example.com", "A", "https://id.example.com"),
        ),
        ("http://127.0.0.1:8000", None),
        ("http://[::1]:8000", None),
    ],
)
def test_the_relying_party_is_the_public_host_never_an_address(
    url: str, expected: RelyingParty | None
) -> None:
    assert passkeys.relying_party(url, "A") == expected


async def test_registration_asks_for_a_discoverable_credential_excluding_known_ones(
    stores: MemoryStores, sealer: Sealer
) -> None:
    first = await enrol(stores, sealer, SoftAuthenticator())
    ceremony = passkeys.begin_registration(
        sealer, RP, user_id=ALICE, username="alice", existing=[first]
    )
    options = ceremony.options
    assert options["rp"] == {"id": "localhost", "name": "Authgate"}
    assert options["user"]["name"] == "alice"
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "preferred"
    assert options["attestation"] == "none"
    assert [c["id"] for c in options["excludeCredentials"]] == [first.credential_id]


async def test_a_registered_passkey_signs_in_and_says_what_it_proves(
    stores: MemoryStores, sealer: Sealer
) -> None:
    device = SoftAuthenticator()
    passkey = await enrol(stores, sealer, device)
    assert passkey.name == "Laptop"
    assert passkey.backed_up is False
    used = await sign_in(stores, sealer, device)
    assert used is not None
    assert used.passkey.id == passkey.id
    assert used.passkey.user_id == ALICE
    assert used.amr == ("hwk", "mfa", "pin", "user")
    stored = await stores.passkeys.by_credential_id(passkey.credential_id)
    assert stored is not None
    assert stored.sign_count == 1
    assert stored.last_used_at is not None
    assert actions(stores) == [Action.PASSKEY_ADDED]


async def test_a_synced_passkey_is_swk_and_without_verification_one_factor(
    stores: MemoryStores, sealer: Sealer
) -> None:
    synced = SoftAuthenticator(synced=True)
    await enrol(stores, sealer, synced)
    used = await sign_in(stores, sealer, synced)
    assert used is not None
    assert used.amr == ("mfa", "pin", "swk", "user")
    presence_only = SoftAuthenticator(user_verified=False)
    await enrol(stores, sealer, presence_only, user_id=BOB)
    used = await sign_in(stores, sealer, presence_only)
    assert used is not None
    assert used.amr == ("hwk", "user")


async def test_a_ticket_finishes_one_registration_for_its_own_person(
    stores: MemoryStores, sealer: Sealer
) -> None:
    ceremony = passkeys.begin_registration(
        sealer, RP, user_id=ALICE, username="alice", existing=[]
    )
    device = SoftAuthenticator()
    credential = device.create(ceremony.options, origin=RP.origin)
    with pytest.raises(InvalidRequest, match="could not be added"):
        await passkeys.register(
            stores,
            sealer,
            RP,
            user_id=BOB,
            ticket=ceremony.ticket,
            credential=credential,
            name="Stolen",
            peer=PEER,
        )
    assert stores.passkeys.rows == {}


async def test_a_registration_ticket_is_used_once(
    stores: MemoryStores, sealer: Sealer
) -> None:
    ceremony = passkeys.begin_registration(
        sealer, RP, user_id=ALICE, username="alice", existing=[]
    )
    credential = SoftAuthenticator().create(ceremony.options, origin=RP.origin)
    await passkeys.register(
        stores,
        sealer,
        RP,
        user_id=ALICE,
        ticket=ceremony.ticket,
        credential=credential,
        name="Laptop",
        peer=PEER,
    )
    with pytest.raises(InvalidRequest, match="could not be added"):
        await passkeys.register(
            stores,
            sealer,
            RP,
            user_id=ALICE,
            ticket=ceremony.ticket,
            credential=credential,
            name="Again",
            peer=PEER,
        )
    assert [p.name for p in stores.passkeys.rows.values()] == ["Laptop"]


async def test_an_expired_registration_ticket_is_refused(
    stores: MemoryStores, sealer: Sealer
) -> None:
    ceremony = passkeys.begin_registration(
        sealer, RP, user_id=ALICE, username="alice", existing=[]
    )
    clock.advance(passkeys.CEREMONY_TTL.total_seconds())
    with pytest.raises(InvalidRequest):
        await passkeys.register(
            stores,
            sealer,
            RP,
            user_id=ALICE,
            ticket=ceremony.ticket,
            credential=SoftAuthenticator().create(ceremony.options, origin=RP.origin),
            name="Laptop",
            peer=PEER,
        )


@pytest.mark.parametrize(
    ("origin", "rp_id"),
    [("https://evil.example", None), (RP.origin, "evil.example")],
)
async def test_registration_from_another_origin_or_rp_is_refused(
    stores: MemoryStores, sealer: Sealer, origin: str, rp_id: str | None
) -> None:
    ceremony = passkeys.begin_registration(
        sealer, RP, user_id=ALICE, username="alice", existing=[]
    )
    credential = SoftAuthenticator().create(
        ceremony.options, origin=origin, rp_id=rp_id
    )
    with pytest.raises(InvalidRequest):
        await passkeys.register(
            stores,
            sealer,
            RP,
            user_id=ALICE,
            ticket=ceremony.ticket,
            credential=credential,
            name="Laptop",
            peer=PEER,
        )
    assert stores.passkeys.rows == {}


async def test_one_credential_is_registered_once(
    stores: MemoryStores, sealer: Sealer
) -> None:
    device = SoftAuthenticator()
    await enrol(stores, sealer, device)
    with pytest.raises(Conflict):
        await enrol(stores, sealer, device, user_id=BOB)


@pytest.mark.parametrize(
    ("origin", "rp_id"),
    [("https://evil.example", None), (RP.origin, "evil.example")],
)
async def test_an_assertion_for_another_origin_or_rp_is_refused_and_audited(
    stores: MemoryStores, sealer: Sealer, origin: str, rp_id: str | None
) -> None:
    device = SoftAuthenticator()
    await enrol(stores, sealer, device)
    assert await sign_in(stores, sealer, device, origin=origin, rp_id=rp_id) is None
    assert actions(stores)[-1] == Action.PASSKEY_FAILED
    assert stores.audit.events[-1].details == {"reason": "signature"}


async def test_a_sign_in_ticket_is_used_once(
    stores: MemoryStores, sealer: Sealer
) -> None:
    device = SoftAuthenticator()
    await enrol(stores, sealer, device)
    ceremony = passkeys.begin_sign_in(sealer, RP)
    first = device.get(ceremony.options, origin=RP.origin)
    again = device.get(ceremony.options, origin=RP.origin)
    ticket = ceremony.ticket
    assert await passkeys.sign_in(
        stores, sealer, RP, ticket=ticket, credential=first, peer=PEER
    )
    refused = await passkeys.sign_in(
        stores, sealer, RP, ticket=ticket, credential=again, peer=PEER
    )
    assert refused is None
    assert stores.audit.events[-1].details == {"reason": "challenge"}


async def test_a_second_factor_must_be_the_persons_own_passkey(
    stores: MemoryStores, sealer: Sealer
) -> None:
    bobs = SoftAuthenticator()
    await enrol(stores, sealer, bobs, user_id=BOB)
    challenge = passkeys.new_challenge()
    options = passkeys.request_options(RP, [], challenge)
    refused = await passkeys.verify_assertion(
        stores,
        RP,
        expected_challenge=challenge,
        credential=bobs.get(options, origin=RP.origin),
        user_id=ALICE,
        peer=PEER,
    )
    assert refused is None
    assert stores.audit.events[-1].details == {"reason": "unknown_credential"}


async def test_second_factor_options_list_the_persons_passkeys(
    stores: MemoryStores, sealer: Sealer
) -> None:
    device = SoftAuthenticator()
    passkey = await enrol(stores, sealer, device)
    challenge = passkeys.new_challenge()
    options = passkeys.request_options(RP, [passkey], challenge)
    assert [c["id"] for c in options["allowCredentials"]] == [passkey.credential_id]
    used = await passkeys.verify_assertion(
        stores,
        RP,
        expected_challenge=challenge,
        credential=device.get(options, origin=RP.origin),
        user_id=ALICE,
        peer=PEER,
    )
    assert used is not None
    assert used.passkey.id == passkey.id


async def test_a_second_step_offers_the_persons_passkeys_only(
    stores: MemoryStores, sealer: Sealer
) -> None:
    assert await passkeys.second_factor(stores, RP, ALICE) is None
    device = SoftAuthenticator()
    mine = await enrol(stores, sealer, device)
    await enrol(stores, sealer, SoftAuthenticator(), user_id=BOB)
    step = await passkeys.second_factor(stores, RP, ALICE)
    assert step is not None
    assert [c["id"] for c in step.options["allowCredentials"]] == [mine.credential_id]
    assert step.options["challenge"] == step.challenge
    answer = device.get(step.options, origin=RP.origin)
    used = await passkeys.verify_second_factor(
        stores,
        RP,
        challenge=step.challenge,
        credential=answer,
        user_id=ALICE,
        peer=PEER,
    )
    assert used is not None
    assert used.amr == ("hwk", "mfa", "pin", "user")
    other = await passkeys.second_factor(stores, RP, ALICE)
    assert other is not None
    refused = await passkeys.verify_second_factor(
        stores,
        RP,
        challenge=other.challenge,
        credential=answer,
        user_id=ALICE,
        peer=PEER,
    )
    assert refused is None  # an answer to another challenge


async def test_a_user_handle_naming_someone_else_is_refused(
    stores: MemoryStores, sealer: Sealer
) -> None:
    device = SoftAuthenticator()
    await enrol(stores, sealer, device)
    device.user_handle = passkeys.user_handle(BOB)
    assert await sign_in(stores, sealer, device) is None
    device.user_handle = None  # a discoverable sign-in needs one
    assert await sign_in(stores, sealer, device) is None


async def test_a_counter_going_back_is_refused_as_a_clone(
    stores: MemoryStores, sealer: Sealer
) -> None:
    device = SoftAuthenticator()
    passkey = await enrol(stores, sealer, device)
    assert await sign_in(stores, sealer, device) is not None
    assert await sign_in(stores, sealer, device) is not None
    device.sign_count = 0  # the copy: next signature counts 1, after the stored 2
    assert await sign_in(stores, sealer, device) is None
    event = stores.audit.events[-1]
    assert event.action == Action.PASSKEY_CLONE_SUSPECTED
    assert event.target_id == passkey.id
    assert event.details == {"stored": 2, "presented": 1}


async def test_an_authenticator_that_does_not_count_is_accepted(
    stores: MemoryStores, sealer: Sealer
) -> None:
    device = SoftAuthenticator(counting=False)
    await enrol(stores, sealer, device)
    assert await sign_in(stores, sealer, device) is not None
    assert await sign_in(stores, sealer, device) is not None


async def test_malformed_credentials_are_refused(
    stores: MemoryStores, sealer: Sealer
) -> None:
    ceremony = passkeys.begin_sign_in(sealer, RP)
    used = await passkeys.sign_in(
        stores, sealer, RP, ticket=ceremony.ticket, credential={"id": 1}, peer=PEER
    )
    assert used is None
    assert stores.audit.events[-1].details == {"reason": "malformed"}
    with pytest.raises(InvalidRequest):
        passkeys.parse_credential("[1]")
    with pytest.raises(InvalidRequest):
        passkeys.parse_credential("{")


async def test_only_the_owner_renames_or_removes_a_passkey(
    stores: MemoryStores, sealer: Sealer
) -> None:
    passkey = await enrol(stores, sealer, SoftAuthenticator())
    with pytest.raises(NotFound):
        await passkeys.rename(stores, BOB, passkey.id, "Mine", peer=PEER)
    with pytest.raises(NotFound):
        await passkeys.remove(stores, BOB, passkey.id, peer=PEER)
    with pytest.raises(InvalidRequest):
        await passkeys.rename(stores, ALICE, passkey.id, "   ", peer=PEER)
    await passkeys.rename(stores, ALICE, passkey.id, "  Work   phone ", peer=PEER)
    assert [p.name for p in await passkeys.listed(stores, ALICE)] == ["Work phone"]
    assert await passkeys.has_passkey(stores, ALICE)
    await passkeys.remove(stores, ALICE, passkey.id, peer=PEER)
    assert await passkeys.listed(stores, ALICE) == []
    assert not await passkeys.has_passkey(stores, ALICE)
    assert actions(stores)[-2:] == [Action.PASSKEY_RENAMED, Action.PASSKEY_REMOVED]


async def test_one_account_holds_a_bounded_number_of_passkeys(
    stores: MemoryStores, sealer: Sealer
) -> None:
    for _ in range(passkeys.MAX_PER_PERSON):
        await enrol(stores, sealer, SoftAuthenticator())
    with pytest.raises(Conflict, match="remove one"):
        await enrol(stores, sealer, SoftAuthenticator())
    assert len(stores.passkeys.rows) == passkeys.MAX_PER_PERSON


async def test_only_known_transports_are_kept(
    stores: MemoryStores, sealer: Sealer
) -> None:
    ceremony = passkeys.begin_registration(
        sealer, RP, user_id=ALICE, username="alice", existing=[]
    )
    credential = SoftAuthenticator().create(ceremony.options, origin=RP.origin)
    credential["response"]["transports"] = ["usb", "smoke-signal", 7]
    passkey = await passkeys.register(
        stores,
        sealer,
        RP,
        user_id=ALICE,
        ticket=ceremony.ticket,
        credential=credential,
        name="Key",
        peer=PEER,
    )
    assert passkey.transports == ("usb",)
