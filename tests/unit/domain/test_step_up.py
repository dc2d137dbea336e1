"""Step-up's rule (RFC 9470) and how an authentication is said in tokens."""

from datetime import UTC, datetime, timedelta

import pytest

from authgate.domain import assurance, step_up
from authgate.domain.assurance import Authentication
from authgate.errors import InsufficientUserAuthentication

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
TEN = timedelta(minutes=10)
PASSWORD = (assurance.PWD,)
TWO = (assurance.MFA, assurance.OTP, assurance.PWD)


def gap(
    at: datetime | None, amr: tuple[str, ...] = PASSWORD, *, factor: bool = False
) -> step_up.Shortfall | None:
    proof = Authentication(at, amr) if at is not None else None
    return step_up.shortfall(proof, max_age=TEN, has_factor=factor, now=NOW)


def test_a_recent_sign_in_is_enough() -> None:
    assert gap(NOW - TEN) is None


def test_an_old_one_or_none_is_not() -> None:
    assert gap(NOW - TEN - timedelta(seconds=1)) == step_up.Shortfall(600, None)
    assert gap(None) == step_up.Shortfall(600, None)


def test_with_a_factor_it_must_have_been_used() -> None:
    assert gap(NOW, factor=True) == step_up.Shortfall(600, assurance.TWO_FACTORS)
    assert gap(NOW, TWO, factor=True) is None
    # old and two-factor: only the age is missing
    assert gap(NOW - timedelta(hours=1), TWO, factor=True) == step_up.Shortfall(
        600, None
    )


def test_the_challenge_says_what_would_do() -> None:
    stale = step_up.Shortfall(600, None).error()
    assert isinstance(stale, InsufficientUserAuthentication)
    assert stale.status == 401
    assert stale.headers == {
        "WWW-Authenticate": 'Bearer error="insufficient_user_authentication", '
        f'error_description="{step_up.STALE}", max_age="600"'
    }
    weak = step_up.Shortfall(600, assurance.TWO_FACTORS).error()
    assert weak.headers["WWW-Authenticate"].endswith(
        f'error_description="{step_up.NO_FACTOR}", max_age="600", acr_values="aal2"'
    )


@pytest.mark.parametrize(
    ("amr", "said"),
    [
        (PASSWORD, {"amr": ["pwd"], "acr": "aal1"}),
        (TWO, {"amr": ["mfa", "otp", "pwd"], "acr": "aal2"}),
        ((), {"acr": "aal1"}),  # an upstream sign-in Authgate cannot name
    ],
)
def test_tokens_say_when_how_and_how_well(
    amr: tuple[str, ...], said: dict[str, object]
) -> None:
    claims = Authentication(NOW, amr).claims()
    assert claims == {"auth_time": int(NOW.timestamp()), **said}
