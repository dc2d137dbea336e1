"""Codes an authenticator app would show, computed with pyotp as an app does."""

import pyotp

from authgate.domain import totp
from authgate.util import clock


def code(secret: str, steps: int = 0) -> str:
    """The code for the time step ``steps`` away from now."""
    return pyotp.TOTP(secret).at(clock.now(), counter_offset=steps)


def at_step_start() -> None:
    """Move the clock to just past the start of a time step, so a test's codes
    keep their step relative to now for the ~29 s that follow."""
    into = clock.now().timestamp() % totp.PERIOD
    clock.advance(totp.PERIOD - into + 0.5)
