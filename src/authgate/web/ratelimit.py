"""Per-IP request limits for endpoints that guess secrets (sign-in, recovery).

A fixed window per key, in process: each instance limits on its own, which
bounds guessing per instance; account lockout (in the database) bounds it
across instances.
"""

import time


class RateLimiter:
    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}

    def hit(self, key: str, limit: int, window: float = 60.0) -> int | None:
        """Count a request; the seconds to wait when over ``limit``, else ``None``."""
        now = time.monotonic()
        started, count = self._windows.get(key, (now, 0))
        if now - started >= window:
            started, count = now, 0
        count += 1
        if len(self._windows) > 100_000:
            self._windows.clear()
        self._windows[key] = (started, count)
        if count > limit:
            return max(1, int(window - (now - started)) + 1)
        return None
