"""The one place Authgate reads the time, so tests can move it."""

import math
from datetime import UTC, datetime, timedelta

_offset = timedelta()


def now() -> datetime:
    """The current UTC time, shifted by :func:`advance` in tests."""
    return datetime.now(UTC) + _offset


def seconds_until(moment: datetime) -> int:
    """Whole seconds from now until ``moment``, at least 1: a ``Retry-After``."""
    return max(1, math.ceil((moment - now()).total_seconds()))


def advance(seconds: float) -> None:
    """Move the clock forward (tests only)."""
    global _offset
    _offset += timedelta(seconds=seconds)


def reset() -> None:
    global _offset
    _offset = timedelta()
