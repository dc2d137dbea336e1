import asyncio
import time

import pytest
from argon2 import Parameters, PasswordHasher, Type, extract_parameters

from authgate.domain import passwords
from authgate.domain.passwords import MAX_LENGTH, Hasher, check_policy
from authgate.errors import WeakPassword

GOOD = "correct horse battery staple"


def test_policy_accepts_a_good_password() -> None:
    check_policy(GOOD, min_length=12, username="alice")


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "at least 12"),
        ("a" * (MAX_LENGTH + 1), f"at most {MAX_LENGTH}"),
        ("correct horse\x00battery", "NUL"),
        ("qwerty123456", "too common"),
        ("QWERTY123456", "too common"),
        ("my name is alice123!", "username"),
        ("my name is ALICE123!", "username"),
    ],
)
def test_policy_refuses(password: str, message: str) -> None:
    with pytest.raises(WeakPassword, match=message):
        check_policy(password, min_length=12, username="alice123")


def test_a_refusal_says_how_strong_and_what_would_help() -> None:
    with pytest.raises(WeakPassword) as refused:
        check_policy("qwerty123456", min_length=12)
    assert refused.value.description == (
        "That password is too common; choose another. Strength 1 of 4: "
        "This is a very common password. "
        "Add another word or two. Uncommon words are better."
    )
    with pytest.raises(WeakPassword) as short:
        check_policy("dragon", min_length=12)
    assert short.value.description.startswith(
        "Password must be at least 12 characters. Strength 0 of 4: "
    )


def test_a_refusal_without_advice_gives_only_the_reason() -> None:
    """zxcvbn finds a random-looking password strong; the length is the only
    reason, and a score would read as praise."""
    with pytest.raises(WeakPassword) as refused:
        check_policy("x7#Kq9!mZ2p", min_length=12)
    assert refused.value.description == "Password must be at least 12 characters."


def test_min_length_is_the_setting() -> None:
    check_policy("abcdefgh-xyz", min_length=12)
    with pytest.raises(WeakPassword, match="at least 13"):
        check_policy("abcdefgh-xyz", min_length=13)


def test_max_length_boundary() -> None:
    check_policy("ab" * (MAX_LENGTH // 2), min_length=12)


def test_length_counts_characters_after_nfc_normalisation() -> None:
    # "é" written as "e" + combining acute: 12 code points, 6 characters
    decomposed = "e\u0301" * 6
    with pytest.raises(WeakPassword, match="at least 12"):
        check_policy(decomposed, min_length=12)
    check_policy("é" * 12, min_length=12)


def test_no_username_no_username_rule() -> None:
    check_policy("alice-in-wonderland", min_length=12, username=None)
    with pytest.raises(WeakPassword):
        check_policy("alice-in-wonderland", min_length=12, username="alice")


@pytest.mark.anyio
async def test_hash_is_argon2id_and_verifies(hasher: Hasher) -> None:
    hashed = await hasher.hash(GOOD)
    assert hashed.startswith("$argon2id$")
    assert GOOD not in hashed
    assert await hasher.verify(hashed, GOOD)
    assert not await hasher.verify(hashed, GOOD + "!")
    assert await hasher.hash(GOOD) != hashed  # salted


@pytest.mark.anyio
@pytest.mark.parametrize("stored", [None, "", "not-a-hash", "$argon2id$v=19$broken"])
async def test_verify_without_a_usable_hash_is_false(
    hasher: Hasher, stored: str | None
) -> None:
    assert await hasher.verify(stored, GOOD) is False


@pytest.mark.anyio
async def test_verify_none_still_costs_a_hash(hasher: Hasher) -> None:
    # an unknown user is checked against a dummy hash, not answered at once
    hashed = await hasher.hash(GOOD)
    called: list[str] = []
    original = hasher._verify

    def spy(password_hash: str, password: str) -> bool:
        called.append(password_hash)
        return original(password_hash, password)

    hasher._verify = spy  # type: ignore[method-assign]
    try:
        assert await hasher.verify(None, GOOD) is False
        assert await hasher.verify(hashed, GOOD) is True
    finally:
        del hasher._verify
    assert len(called) == 2
    assert called[0].startswith("$argon2id$")


@pytest.mark.anyio
async def test_needs_rehash_when_parameters_change() -> None:
    old = Hasher(time_cost=1, memory_kib=1024)
    new = Hasher(time_cost=2, memory_kib=2048)
    hashed = await old.hash(GOOD)
    assert not old.needs_rehash(hashed)
    assert new.needs_rehash(hashed)
    assert not new.needs_rehash(await new.hash(GOOD))
    # the new parameters still verify the old hash (rehash happens after login)
    assert await new.verify(hashed, GOOD)


@pytest.mark.anyio
async def test_a_stronger_hash_is_never_rehashed_down() -> None:
    """Instances with old and new settings side by side must not rewrite each
    other's hashes on every login."""
    old = Hasher(time_cost=1, memory_kib=1024)
    new = Hasher(time_cost=2, memory_kib=2048)
    assert not old.needs_rehash(await new.hash(GOOD))
    more_memory = Hasher(time_cost=1, memory_kib=4096)
    assert not more_memory.needs_rehash(await Hasher(2, 8192).hash(GOOD))
    assert more_memory.needs_rehash(await Hasher(3, 2048).hash(GOOD))  # less memory


def test_an_unreadable_or_foreign_hash_needs_rehash() -> None:
    hasher = Hasher(time_cost=1, memory_kib=1024)
    assert hasher.needs_rehash("not a hash")
    argon2i = PasswordHasher(time_cost=3, memory_cost=4096, type=Type.I).hash(GOOD)
    assert hasher.needs_rehash(argon2i)


@pytest.mark.anyio
async def test_hashing_does_not_block_the_event_loop() -> None:
    slow = Hasher(time_cost=3, memory_kib=32768)
    ticks = 0

    async def heartbeat() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.001)

    beat = asyncio.create_task(heartbeat())
    await asyncio.sleep(0.01)
    try:
        for work in (slow.hash(GOOD), slow.verify(None, GOOD)):
            before, started = ticks, time.perf_counter()
            await work
            elapsed = time.perf_counter() - started
            assert elapsed > 0.01, "the hash was too fast to tell"
            # the loop kept running while the hash was computed elsewhere
            assert ticks - before >= 5, (ticks - before, elapsed)
    finally:
        beat.cancel()


@pytest.mark.anyio
async def test_the_rehash_check_parses_each_parameter_set_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """It runs on the event loop at every login: the second hash made with the
    same parameters is judged without parsing, and another set still is."""
    hasher = Hasher(time_cost=2, memory_kib=2048)
    same = [await hasher.hash(GOOD), await hasher.hash("another good passphrase")]
    weaker = await Hasher(time_cost=1, memory_kib=2048).hash(GOOD)
    parsed: list[str] = []

    def counted(password_hash: str) -> Parameters:
        parsed.append(password_hash)
        return extract_parameters(password_hash)

    monkeypatch.setattr(passwords, "extract_parameters", counted)
    assert [hasher.needs_rehash(h) for h in same] == [False, False]
    assert hasher.needs_rehash(weaker)
    assert hasher.needs_rehash(weaker)
    assert parsed == [same[0], weaker]
