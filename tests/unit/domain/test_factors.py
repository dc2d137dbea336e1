"""The second step: which methods a person has, the mfa ticket, lockout and
audit of wrong proofs, and the amr a passed step proves."""

from datetime import timedelta
from typing import Any

import pytest

from authgate.domain import (
    assurance,
    audit,
    factors,
    passkeys,
    recovery_codes,
    sessions,
    totp,
    users,
)
from authgate.domain.passwords import Hasher
from authgate.domain.sealing import Sealer
from authgate.errors import Conflict, InvalidRequest
from authgate.util import clock
from tests.support.memory import MemoryStores
from tests.support.totp import code
from tests.support.webauthn import SoftAuthenticator
from tests.unit.domain.conftest import (
    ACCESS_TTL,
    KEYS,
    LOCKOUT_POLICY,
    NOTICES,
    PASSWORD,
    PEER,
    SESSION_POLICY,
    register,
    with_app,
)

pytestmark = pytest.mark.anyio


def pending(user: users.User) -> factors.Pending:
    ticket = factors.ticket(KEYS.tickets, user.id, (assurance.PWD,))
    opened = factors.open_ticket(KEYS.tickets, ticket)
    assert opened is not None
    return opened


async def prove(
    stores: MemoryStores,
    waiting: factors.Pending,
    method: str,
    proof: str | dict[str, Any],
) -> tuple[str, ...] | None:
    return await factors.prove(
        stores,
        KEYS,
        LOCKOUT_POLICY,
        waiting,
        method=method,
        proof=proof,
        rp=None,
        peer=PEER,
    )


async def test_no_factor_no_methods(stores: MemoryStores, hasher: Hasher) -> None:
    alice = await register(stores, hasher, "alice")
    assert await factors.methods(stores, alice.id) == ()
    assert not await factors.has_factor(stores, alice.id)
    # An app set up but never confirmed is no factor either.
    await totp.begin(
        stores, KEYS.totp, user_id=alice.id, account="alice", issuer="Authgate"
    )
    assert not await factors.has_factor(stores, alice.id)


async def test_the_first_factor_comes_with_recovery_codes(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    _, codes = await with_app(stores, alice)
    assert len(codes) == 10
    assert await factors.methods(stores, alice.id) == (
        factors.TOTP,
        factors.RECOVERY_CODE,
    )
    # A later enrolment (a passkey, at merge) adds none.
    assert (
        await factors.enrolled(stores, KEYS, user_id=alice.id, first=False, peer=PEER)
        is None
    )


async def test_a_passed_step_combines_the_methods_and_uses_the_ticket(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    secret, _ = await with_app(stores, alice)
    waiting = pending(alice)
    amr = await prove(stores, waiting, factors.TOTP, code(secret))
    assert amr == ("mfa", "otp", "pwd")
    assert assurance.acr(amr) == assurance.TWO_FACTORS
    with pytest.raises(factors.TicketUsed):
        await prove(stores, waiting, factors.TOTP, code(secret, 1))


async def test_a_recovery_code_stands_in_once(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    _, codes = await with_app(stores, alice)
    assert await prove(stores, pending(alice), factors.RECOVERY_CODE, codes[0]) == (
        "mfa",
        "otp",
        "pwd",
    )
    assert await prove(stores, pending(alice), factors.RECOVERY_CODE, codes[0]) is None


async def test_wrong_proofs_count_towards_the_lockout_and_are_audited(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    secret, codes = await with_app(stores, alice)
    waiting = pending(alice)
    for _ in range(LOCKOUT_POLICY.max_attempts):
        assert await prove(stores, waiting, factors.TOTP, "000000") is None
    failed = [e for e in stores.audit.events if e.action == audit.Action.MFA_FAILED]
    assert len(failed) == LOCKOUT_POLICY.max_attempts
    assert failed[0].details == {"method": "totp", "reason": "wrong_code"}
    assert stores.audit.events[-1].action == audit.Action.ACCOUNT_LOCKED
    # Locked: even a right code or recovery code is refused, and not spent.
    assert await prove(stores, waiting, factors.TOTP, code(secret)) is None
    assert await prove(stores, waiting, factors.RECOVERY_CODE, codes[0]) is None
    assert stores.audit.events[-1].details["reason"] == "locked"
    # ... and so is the password (one counter for both).
    attempt = await users.begin_sign_in(stores, "alice")
    checked = await users.check_password(hasher, attempt, PASSWORD)
    assert (
        await users.finish_sign_in(stores, LOCKOUT_POLICY, checked, peer=PEER) is None
    )
    clock.advance(LOCKOUT_POLICY.duration.total_seconds() + 1)
    assert await prove(stores, waiting, factors.RECOVERY_CODE, codes[0]) is not None


async def test_the_password_step_does_not_reset_the_count(
    stores: MemoryStores, hasher: Hasher
) -> None:
    """Otherwise someone holding the password could guess codes forever,
    signing in with it again before each lockout."""
    alice = await register(stores, hasher, "alice")
    await with_app(stores, alice)
    for _ in range(LOCKOUT_POLICY.max_attempts):
        attempt = await users.begin_sign_in(stores, "alice")
        checked = await users.check_password(hasher, attempt, PASSWORD)
        found = await users.finish_sign_in(
            stores, LOCKOUT_POLICY, checked, peer=PEER, second_step=True
        )
        assert found is not None
        assert await prove(stores, pending(alice), factors.TOTP, "000000") is None
    failures = await stores.lockout.find("alice")
    assert failures is not None
    assert failures.locked()


async def test_a_passed_step_clears_the_count(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    secret, _ = await with_app(stores, alice)
    assert await prove(stores, pending(alice), factors.TOTP, "000000") is None
    assert await prove(stores, pending(alice), factors.TOTP, code(secret)) is not None
    assert await stores.lockout.find("alice") is None


async def test_a_method_the_person_lacks_or_a_disabled_account_is_refused(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    secret, _ = await with_app(stores, alice)
    with pytest.raises(InvalidRequest):
        await prove(stores, pending(alice), "sms", "123456")
    assert await prove(stores, pending(alice), factors.WEBAUTHN, {}) is None
    with pytest.raises(InvalidRequest):  # a proof of the wrong kind
        await prove(stores, pending(alice), factors.WEBAUTHN, "123456")
    with pytest.raises(InvalidRequest):
        await prove(stores, pending(alice), factors.TOTP, {"code": code(secret)})
    await stores.users.set_disabled(alice.id, clock.now())
    assert await prove(stores, pending(alice), factors.TOTP, code(secret)) is None
    assert stores.audit.events[-1].details["reason"] == "disabled"


async def test_a_ticket_is_bound_to_its_purpose_key_and_lifetime() -> None:
    ticket = factors.ticket(
        KEYS.tickets, "usr_a", ("oidc", "pwd"), session_id="ses_1", method="oidc"
    )
    opened = factors.open_ticket(KEYS.tickets, ticket)
    assert opened is not None
    assert (opened.user_id, opened.amr, opened.session_id, opened.method) == (
        "usr_a",
        ("oidc", "pwd"),
        "ses_1",
        "oidc",
    )
    assert factors.open_ticket(Sealer(b"x" * 32), ticket) is None
    assert factors.open_ticket(KEYS.tickets, ticket[:-2] + "AA") is None
    other = KEYS.tickets.ticket("webauthn", {"user": "usr_a", "amr": []}, timedelta(1))
    assert factors.open_ticket(KEYS.tickets, other) is None
    clock.advance(factors.TICKET_TTL.total_seconds())
    assert factors.open_ticket(KEYS.tickets, ticket) is None


async def test_removing_the_last_factor_withdraws_the_recovery_codes(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    await with_app(stores, alice)
    assert await factors.remove_totp(
        stores, user_id=alice.id, actor_id=alice.id, peer=PEER
    )
    assert await recovery_codes.remaining(stores, alice.id) == 0
    assert not await factors.remove_totp(
        stores, user_id=alice.id, actor_id=alice.id, peer=PEER
    )
    with pytest.raises(Conflict):
        await factors.regenerate_codes(stores, KEYS, user_id=alice.id, peer=PEER)


async def test_regenerating_replaces_the_codes(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    _, old = await with_app(stores, alice)
    new = await factors.regenerate_codes(stores, KEYS, user_id=alice.id, peer=PEER)
    assert await prove(stores, pending(alice), factors.RECOVERY_CODE, old[0]) is None
    assert (
        await prove(stores, pending(alice), factors.RECOVERY_CODE, new[0]) is not None
    )


RP = passkeys.RelyingParty(
    id="localhost", name="Authgate", origin="http://localhost:8000"
)


async def with_passkey(
    stores: MemoryStores, user: users.User, device: SoftAuthenticator
) -> list[str] | None:
    """``user`` with a passkey of ``device``: the recovery codes it brought."""
    sealer = Sealer(b"w" * 32)
    first = not await factors.has_factor(stores, user.id)
    ceremony = passkeys.begin_registration(
        sealer, RP, user_id=user.id, username=user.username, existing=[]
    )
    await passkeys.register(
        stores,
        sealer,
        RP,
        user_id=user.id,
        ticket=ceremony.ticket,
        credential=device.create(ceremony.options, origin=RP.origin),
        name="Laptop",
        peer=PEER,
    )
    return await factors.enrolled(stores, KEYS, user_id=user.id, first=first, peer=PEER)


async def test_a_passkey_is_a_factor_and_is_offered_with_its_challenge(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    device = SoftAuthenticator()
    codes = await with_passkey(stores, alice, device)
    assert codes is not None
    assert len(codes) == 10
    assert await factors.methods(stores, alice.id) == (
        factors.WEBAUTHN,
        factors.RECOVERY_CODE,
    )
    assert (await factors.summary(stores, alice.id)).passkeys == 1

    step = await factors.begin(stores, KEYS.tickets, RP, alice.id, (assurance.PWD,))
    assert step.methods == (factors.WEBAUTHN, factors.RECOVERY_CODE)
    assert step.webauthn is not None
    waiting = factors.open_ticket(KEYS.tickets, step.mfa_token)
    assert waiting is not None
    assert waiting.challenge == step.webauthn["challenge"]
    # Offered again after a wrong proof: the same challenge, the same ticket.
    again = await factors.again(stores, RP, step.mfa_token, waiting)
    assert again.webauthn is not None
    assert again.webauthn["challenge"] == step.webauthn["challenge"]
    assert again.mfa_token == step.mfa_token

    answer = device.get(step.webauthn, origin=RP.origin)
    assert await factors.prove(
        stores,
        KEYS,
        LOCKOUT_POLICY,
        waiting,
        method=factors.WEBAUTHN,
        proof=answer,
        rp=RP,
        peer=PEER,
    ) == ("hwk", "mfa", "pin", "pwd", "user")


async def test_without_a_relying_party_no_passkey_is_offered_or_accepted(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    device = SoftAuthenticator()
    await with_passkey(stores, alice, device)
    step = await factors.begin(stores, KEYS.tickets, None, alice.id, (assurance.PWD,))
    assert step.methods == (factors.RECOVERY_CODE,)
    assert step.webauthn is None
    waiting = factors.open_ticket(KEYS.tickets, step.mfa_token)
    assert waiting is not None
    assert waiting.challenge is None
    # A ticket made with no challenge is not offered one later either.
    assert (await factors.again(stores, RP, step.mfa_token, waiting)).webauthn is None
    offered = await factors.begin(stores, KEYS.tickets, RP, alice.id, ("pwd",))
    assert offered.webauthn is not None
    answer = device.get(offered.webauthn, origin=RP.origin)
    assert await prove(stores, waiting, factors.WEBAUTHN, answer) is None
    assert stores.audit.events[-1].action == audit.Action.MFA_FAILED


async def test_removing_the_last_passkey_withdraws_the_codes(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    await with_passkey(stores, alice, SoftAuthenticator())
    assert await with_passkey(stores, alice, SoftAuthenticator()) is None
    one, two = await passkeys.listed(stores, alice.id)
    await factors.remove_passkey(stores, user_id=alice.id, passkey_id=one.id, peer=PEER)
    assert await stores.recovery_codes.remaining(alice.id) == 10
    await factors.remove_passkey(stores, user_id=alice.id, passkey_id=two.id, peer=PEER)
    assert await stores.recovery_codes.remaining(alice.id) == 0
    assert not await factors.has_factor(stores, alice.id)


async def test_an_admin_reset_removes_every_factor_and_ends_every_login(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    await with_app(stores, alice)
    started = await sessions.start(
        stores, SESSION_POLICY, user_id=alice.id, prefix="ag", peer=PEER, amr=("pwd",)
    )
    ended = await factors.reset(
        stores,
        alice.id,
        actor_id="usr_admin",
        access_ttl=ACCESS_TTL,
        peer=PEER,
        notify=NOTICES,
    )
    assert ended.sessions == [started.session.id]
    assert not await factors.has_factor(stores, alice.id)
    assert await recovery_codes.remaining(stores, alice.id) == 0
    assert alice.id in stores.invalidated
    reset = [e for e in stores.audit.events if e.action == audit.Action.FACTORS_RESET]
    assert [(e.actor_id, e.target_id, e.details) for e in reset] == [
        ("usr_admin", alice.id, {"removed": ["totp"]})
    ]


def enrolment(user: users.User) -> tuple[factors.SecondStep, factors.Pending]:
    step = factors.enrolment(
        KEYS.tickets, user.id, (assurance.PWD,), account=user.username, issuer="test"
    )
    opened = factors.open_ticket(KEYS.tickets, step.mfa_token)
    assert opened is not None
    return step, opened


async def finish_enrolment(
    stores: MemoryStores, waiting: factors.Pending, method: str, proof: str
) -> factors.Enrolled | None:
    return await factors.enrol(
        stores, KEYS, waiting, method=method, code=proof, peer=PEER
    )


async def test_an_enrolment_ticket_carries_its_app_and_writes_nothing(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    step, waiting = enrolment(alice)
    assert step.methods == (factors.TOTP,)
    assert step.enrolment is not None
    assert waiting.enrolment == step.enrolment
    assert "alice" in step.enrolment.uri
    assert await stores.totp.get(alice.id) is None
    offered = await factors.again(stores, None, step.mfa_token, waiting)
    assert offered.enrolment == step.enrolment
    # Longer-lived than a second step's: there is an app to install first.
    clock.advance(factors.TICKET_TTL.total_seconds())
    assert factors.open_ticket(KEYS.tickets, step.mfa_token) is not None
    clock.advance((factors.ENROL_TTL - factors.TICKET_TTL).total_seconds())
    assert factors.open_ticket(KEYS.tickets, step.mfa_token) is None


async def test_an_enrolment_is_finished_by_its_apps_first_code_once(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    step, waiting = enrolment(alice)
    assert step.enrolment is not None
    secret = step.enrolment.secret

    async def enrol(method: str, proof: str) -> factors.Enrolled | None:
        return await finish_enrolment(stores, waiting, method, proof)

    with pytest.raises(InvalidRequest):  # not a second step's proof
        await prove(stores, waiting, factors.TOTP, code(secret))
    with pytest.raises(InvalidRequest):
        await enrol(factors.RECOVERY_CODE, code(secret))
    with pytest.raises(InvalidRequest):
        await enrol(factors.TOTP, "000000" if code(secret) != "000000" else "1")
    assert not await factors.has_factor(stores, alice.id)
    done = await enrol(factors.TOTP, code(secret))
    assert done is not None
    assert done.amr == (assurance.MFA, assurance.OTP, assurance.PWD)
    assert len(done.recovery_codes) == 10
    assert await factors.methods(stores, alice.id) == (
        factors.TOTP,
        factors.RECOVERY_CODE,
    )
    enrolled = [
        e for e in stores.audit.events if e.action == audit.Action.FACTOR_ENROLLED
    ]
    assert [e.details for e in enrolled] == [{"factor": "totp"}]
    # The ticket is spent, and a factor now exists: no second enrolment.
    with pytest.raises(factors.TicketUsed):
        await enrol(factors.TOTP, code(secret, 1))


async def test_an_enrolment_for_a_disabled_account_opens_nothing(
    stores: MemoryStores, hasher: Hasher
) -> None:
    alice = await register(stores, hasher, "alice")
    step, waiting = enrolment(alice)
    assert step.enrolment is not None
    await stores.users.set_disabled(alice.id, clock.now())
    done = await finish_enrolment(
        stores, waiting, factors.TOTP, code(step.enrolment.secret)
    )
    assert done is None
    assert await stores.totp.get(alice.id) is None
