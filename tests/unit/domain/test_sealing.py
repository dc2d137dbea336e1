import os
from datetime import timedelta

from authgate.domain.sealing import Sealer
from authgate.util import clock


def test_a_sealed_value_opens_only_in_its_context_under_its_key() -> None:
    sealer = Sealer(os.urandom(32))
    sealed = sealer.seal(b"secret", b"usr_1")
    assert sealed != b"secret"
    assert b"secret" not in sealed
    assert sealer.open(sealed, b"usr_1") == b"secret"
    assert sealer.open(sealed, b"usr_2") is None
    assert Sealer(os.urandom(32)).open(sealed, b"usr_1") is None
    altered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    assert sealer.open(altered, b"usr_1") is None


def test_each_seal_differs() -> None:
    sealer = Sealer(os.urandom(32))
    assert sealer.seal(b"x", b"c") != sealer.seal(b"x", b"c")


def test_text_round_trips_and_refuses_garbage() -> None:
    sealer = Sealer(os.urandom(32))
    text = sealer.seal_text({"a": 1}, "purpose")
    assert sealer.open_text(text, "purpose") == {"a": 1}
    assert sealer.open_text(text, "other") is None
    assert sealer.open_text("not base64 !", "purpose") is None
    assert sealer.open_text("", "purpose") is None
    assert sealer.open_text("!!!!", "purpose") is None


def test_a_ticket_opens_for_its_purpose_until_it_expires() -> None:
    sealer = Sealer(os.urandom(32))
    text = sealer.ticket("mfa", {"user": "usr_1"}, timedelta(minutes=5))
    ticket = sealer.open_ticket("mfa", text)
    assert ticket is not None
    assert ticket.data == {"user": "usr_1"}
    assert sealer.open_ticket("webauthn", text) is None
    other = sealer.open_ticket("mfa", sealer.ticket("mfa", {}, timedelta(minutes=5)))
    assert other is not None
    assert other.id != ticket.id
    clock.advance(timedelta(minutes=5).total_seconds())
    assert sealer.open_ticket("mfa", text) is None


def test_during_a_rotation_the_previous_key_opens_and_the_new_one_seals() -> None:
    old, new = os.urandom(32), os.urandom(32)
    before = Sealer(old).seal(b"secret", b"usr_1")
    rotating = Sealer(new, old)
    assert rotating.open(before, b"usr_1") == b"secret"
    assert rotating.open(before, b"usr_2") is None  # the context still binds
    after = rotating.seal(b"later", b"usr_1")
    assert Sealer(new).open(after, b"usr_1") == b"later"
    assert Sealer(old).open(after, b"usr_1") is None


def test_reseal_moves_a_value_onto_the_new_key() -> None:
    old, new = os.urandom(32), os.urandom(32)
    before = Sealer(old).seal(b"secret", b"kid")
    moved = Sealer(new, old).reseal(before, b"kid")
    assert moved is not None
    assert Sealer(new).open(moved, b"kid") == b"secret"
    # sealed under neither key: nothing to move
    stranger = Sealer(os.urandom(32)).seal(b"x", b"kid")
    assert Sealer(new, old).reseal(stranger, b"kid") is None
