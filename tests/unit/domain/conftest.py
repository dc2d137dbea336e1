"""The domain's rules run on the in-memory stores: no database, no HTTP."""

from datetime import timedelta

import pytest

from authgate.domain import lockout, sessions, users
from authgate.domain.context import Peer
from authgate.domain.passwords import Hasher
from tests.support.memory import MemoryStores

#: Who the use cases are told is asking.
PEER = Peer(ip="192.0.2.1", user_agent="Mozilla/5.0 (X11; Linux) Firefox/130")
#: How long an access token lives: revocations are remembered this long.
ACCESS_TTL = timedelta(minutes=15)
SESSION_POLICY = sessions.Policy(
    idle_timeout=timedelta(days=7), max_lifetime=timedelta(days=30)
)
LOCKOUT_POLICY = lockout.Policy(max_attempts=3, duration=timedelta(minutes=15))
PASSWORD = "correct horse battery staple"


@pytest.fixture
def stores() -> MemoryStores:
    return MemoryStores()


@pytest.fixture(scope="session")
def hasher() -> Hasher:
    """Argon2 at its cheapest: these tests are about the rules around it."""
    return Hasher(time_cost=1, memory_kib=1024)


async def register(
    stores: MemoryStores,
    hasher: Hasher,
    username: str,
    *,
    email: str | None = None,
    is_admin: bool = False,
) -> users.User:
    """An account, made the way registration makes it."""
    account = await users.prepare(
        hasher, username=username, password=PASSWORD, email=email, min_length=8
    )
    return await users.add(stores, account, is_admin=is_admin, actor_id=None, peer=PEER)
