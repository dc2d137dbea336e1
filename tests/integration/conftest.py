"""``db``: a ``Database`` on each database the test runs on (``database_url`` is
parametrized sqlite | postgresql), for the stores' conformance suites and the
tests that drive the storage directly (the feed, housekeeping)."""

from collections.abc import AsyncIterator

import pytest

from authgate.storage.db import Database


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    try:
        yield database
    finally:
        await database.close()
