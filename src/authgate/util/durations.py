"""Human durations in settings: ``15m``, ``7d``, ``1h30m`` or plain seconds."""

import re
from datetime import timedelta

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+)([smhdw])")


def parse_duration(text: str) -> timedelta:
    text = text.strip().lower()
    if text.isdigit():
        return timedelta(seconds=int(text))
    parts = _PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a duration: {text!r} (use e.g. 900, 15m, 7d)")
    return timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in parts))


def format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit in ("w", "d", "h", "m"):
        if seconds and seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"
