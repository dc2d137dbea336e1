"""Rate limits across instances: with ``AUTHGATE_REDIS_URL`` two instances
spend one budget; when Redis goes away mid-way they keep answering (never a
5xx) and limit in process."""

import contextlib
from collections.abc import Callable

import httpx
import pytest
import redis

from tests.support.actions import random_name
from tests.support.live import LiveServer

pytestmark = [
    pytest.mark.redis,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

#: Instances behind one load balancer share one public URL (the issuer).
SHARED = {"public_url": "https://auth.example.test", "login_rate_limit_per_minute": 4}


def wrong_login(http: httpx.Client) -> int:
    response = http.post(
        "/api/v1/auth/login",
        json={"username": random_name(), "password": "not the password"},
    )
    return response.status_code


def test_two_instances_share_one_budget(
    start_server: Callable[..., LiveServer], redis_url: str
) -> None:
    a = start_server(**SHARED, redis_url=redis_url)
    b = start_server(**SHARED, redis_url=redis_url)
    with a.client() as on_a, b.client() as on_b:
        answers = [wrong_login(http) for http in (on_a, on_b, on_a, on_b, on_a, on_b)]
    # Four in the minute in all, not four on each instance.
    assert answers == [401, 401, 401, 401, 429, 429]


def test_redis_stopping_mid_way_is_never_a_server_error(
    start_server: Callable[..., LiveServer], redis_url: str
) -> None:
    server = start_server(**SHARED, redis_url=redis_url)
    with server.client() as http:
        assert [wrong_login(http) for _ in range(2)] == [401, 401]
        # The server hangs up as it goes.
        with contextlib.suppress(redis.ConnectionError):
            redis.Redis.from_url(redis_url).shutdown(nosave=True)
        answers = [wrong_login(http) for _ in range(6)]
    # The in-process fallback starts its own count, and still limits.
    assert answers == [401, 401, 401, 401, 429, 429]
