"""Request-rate limits: how many requests one key (an address, a client, a
person) may make to one bucket per minute.

The counting is the ``limits`` library's moving window, so a burst straddling
a minute boundary cannot get twice the budget. Counters live in process by
default and in Redis when ``AUTHGATE_REDIS_URL`` is set, so every instance
spends from one budget. If Redis fails the limiter keeps serving: it logs,
counts in process for a while (each instance then limits on its own, as
without Redis) and tries Redis again. An authentication server that refused
every sign-in while its cache was down would turn a Redis outage into an
outage of everything behind it; per-account lockout lives in the database and
holds either way.
"""

import logging
import math
import time
from typing import TYPE_CHECKING, Any

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter

if TYPE_CHECKING:
    from redis.asyncio import ConnectionPool

log = logging.getLogger("authgate")

#: After a Redis failure, how long to count in process before trying it again,
#: so an outage costs one failed call per instance per period, not one per request.
REDIS_RETRY_SECONDS = 5.0
#: A Redis that does not answer within this is treated as down: a limit check
#: must not hold a sign-in for long.
REDIS_TIMEOUT_SECONDS = 0.5


class RateLimiter:
    def __init__(self, redis_url: str | None = None) -> None:
        self._local = MovingWindowRateLimiter(MemoryStorage())
        self._shared: MovingWindowRateLimiter | None = None
        self._pool: ConnectionPool | None = None
        if redis_url:
            # The redis extra: needed, and imported, only with AUTHGATE_REDIS_URL.
            from redis import asyncio as aioredis

            self._pool = aioredis.ConnectionPool.from_url(
                redis_url,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            )
            # Our own pool (limits' options are typed for scalars only), so
            # the connections close with the app.
            options: dict[str, Any] = {"connection_pool": self._pool}
            storage = RedisStorage(
                "async+" + redis_url,
                implementation="redispy",
                key_prefix="authgate:limits",
                **options,
            )
            self._shared = MovingWindowRateLimiter(storage)
        self._shared_down_until = 0.0

    async def hit(self, bucket: str, key: str, per_minute: int) -> int | None:
        """Count one request of ``key`` against ``bucket``; the seconds to wait
        when that is over ``per_minute``, else ``None``."""
        return await self._run(bucket, key, per_minute, count=True)

    async def peek(self, bucket: str, key: str, per_minute: int) -> int | None:
        """As :meth:`hit`, without counting: for budgets spent only by some
        outcomes (a failed client authentication), checked before the work."""
        return await self._run(bucket, key, per_minute, count=False)

    async def _run(
        self, bucket: str, key: str, per_minute: int, *, count: bool
    ) -> int | None:
        item = RateLimitItemPerMinute(per_minute, namespace=bucket)
        shared = self._shared
        if shared is not None and time.monotonic() >= self._shared_down_until:
            try:
                return await _check(shared, item, key, count=count)
            except Exception:
                self._shared_down_until = time.monotonic() + REDIS_RETRY_SECONDS
                log.warning(
                    "rate limits: Redis unavailable; counting in this process "
                    "for the next %d s",
                    REDIS_RETRY_SECONDS,
                    exc_info=True,
                )
        return await _check(self._local, item, key, count=count)

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()


async def _check(
    limiter: MovingWindowRateLimiter, item: RateLimitItem, key: str, *, count: bool
) -> int | None:
    allowed = await limiter.hit(item, key) if count else await limiter.test(item, key)
    if allowed:
        return None
    stats = await limiter.get_window_stats(item, key)
    return max(1, math.ceil(stats.reset_time - time.time()))
