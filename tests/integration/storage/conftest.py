"""Every store's conformance suite runs through ``Database(url).transaction()``
on each database (``database_url`` is parametrized sqlite | postgresql)."""

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
