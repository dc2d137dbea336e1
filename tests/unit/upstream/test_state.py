"""The sealed login-state cookie: round trip, tampering, expiry, binding."""

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from authgate.upstream.base import Flow, UpstreamError
from authgate.upstream.state import LIFETIME, LoginState, check_state, open_sealed, seal

KEY = bytes(range(32))
T0 = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)


def state(**fields: Any) -> LoginState:
    values = {
        "provider": "oidc",
        "flow": Flow.new("https://auth.example.com/auth/callback"),
        "next": "/settings?tab=tokens",
        "invite": None,
        "issued_at": T0,
        **fields,
    }
    return LoginState(**values)


def reason(call: Callable[[], object]) -> str:
    with pytest.raises(UpstreamError) as raised:
        call()
    return raised.value.reason


def test_round_trip() -> None:
    original = state(invite="ag_inv_code")
    assert open_sealed([KEY], seal(KEY, original), now=T0) == original


def test_the_cookie_reveals_nothing() -> None:
    original = state()
    sealed = seal(KEY, original)
    for secret in (original.flow.state, original.flow.code_verifier, "/settings"):
        assert secret not in sealed
    assert seal(KEY, original) != sealed  # a fresh nonce every time


@pytest.mark.parametrize("position", [0, 5, 20, -5, -1])
def test_any_change_is_refused(position: int) -> None:
    sealed = seal(KEY, state())
    index = position % len(sealed)
    flipped = "A" if sealed[index] != "A" else "B"
    tampered = sealed[:index] + flipped + sealed[index + 1 :]
    assert reason(lambda: open_sealed([KEY], tampered, now=T0)) == "state_invalid"


def test_another_key_cannot_open_it() -> None:
    sealed = seal(KEY, state())
    other = bytes(32)
    assert reason(lambda: open_sealed([other], sealed, now=T0)) == "state_invalid"


@pytest.mark.parametrize("garbage", ["x", "!!!!", "", None])
def test_garbage_and_absence(garbage: str | None) -> None:
    expected = "state_missing" if not garbage else "state_invalid"
    assert reason(lambda: open_sealed([KEY], garbage, now=T0)) == expected


def test_it_expires_after_ten_minutes() -> None:
    assert timedelta(minutes=10) == LIFETIME
    sealed = seal(KEY, state())
    open_sealed([KEY], sealed, now=T0 + LIFETIME - timedelta(seconds=1))  # no error
    late = T0 + LIFETIME
    assert reason(lambda: open_sealed([KEY], sealed, now=late)) == "state_expired"


def test_the_callback_state_must_be_the_sealed_one() -> None:
    login = state()
    check_state(login, login.flow.state)
    assert reason(lambda: check_state(login, "something-else")) == "state_mismatch"
    assert reason(lambda: check_state(login, None)) == "state_mismatch"
    other = replace(login, flow=Flow.new(login.flow.redirect_uri))
    assert reason(lambda: check_state(other, login.flow.state)) == "state_mismatch"


def test_flows_are_random_and_long_enough() -> None:
    one, two = Flow.new("x"), Flow.new("x")
    assert one.state != two.state
    assert one.nonce != two.nonce
    assert 43 <= len(one.code_verifier) <= 128  # RFC 7636 §4.1
