import os
from collections.abc import Iterator

import pytest

from tests.support.redis import redis_server


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A real Redis for the test; in CI one must be installed."""
    with redis_server() as url:
        if url is None:
            if os.environ.get("CI") == "true":
                pytest.fail("CI=true but redis-server is not installed")
            pytest.skip("redis-server is not installed")
        yield url
