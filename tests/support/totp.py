"""Codes an authenticator app would show, computed with pyotp as an app does."""

import httpx
import pyotp

from authgate.domain import totp
from authgate.util import clock
from tests.support.actions import Login

FACTORS = "/api/v1/me/factors"


def code(secret: str, steps: int = 0) -> str:
    """The code for the time step ``steps`` away from now."""
    return pyotp.TOTP(secret).at(clock.now(), counter_offset=steps)


def at_step_start() -> None:
    """Move the clock to just past the start of a time step, so a test's codes
    keep their step relative to now for the ~29 s that follow."""
    into = clock.now().timestamp() % totp.PERIOD
    clock.advance(totp.PERIOD - into + 0.5)


def enrol(client: httpx.Client, login: Login) -> tuple[str, list[str]]:
    """An authenticator app for ``login``'s user: its secret and the
    recovery codes that came with it."""
    at_step_start()
    begun = client.post(f"{FACTORS}/totp", headers=login.bearer)
    assert begun.status_code == 201, begun.text
    secret = begun.json()["secret"]
    assert begun.json()["otpauth_uri"].startswith("otpauth://totp/")
    confirmed = client.post(
        f"{FACTORS}/totp/confirm",
        headers=login.bearer,
        json={"code": code(secret, -1)},
    )
    assert confirmed.status_code == 200, confirmed.text
    codes = confirmed.json()["recovery_codes"]
    assert len(codes) == 10
    return secret, codes
