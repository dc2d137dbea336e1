"""``Database.read()`` over one :class:`MemoryStores`, for the server's caches
that fill themselves from the database."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from tests.support.memory.stores import MemoryStores


class MemoryDatabase:
    def __init__(self) -> None:
        self.stores = MemoryStores()
        #: how many read transactions were opened
        self.reads = 0
        #: called as each read begins: what commits while a cache is filling
        self.during_read: Callable[[], None] | None = None

    @asynccontextmanager
    async def read(self) -> AsyncIterator[MemoryStores]:
        self.reads += 1
        if self.during_read is not None:
            self.during_read()
        yield self.stores
