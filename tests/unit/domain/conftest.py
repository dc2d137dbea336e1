"""The domain's rules run on the in-memory stores: no database, no HTTP."""

from datetime import timedelta

import pytest

from authgate.domain import (
    factors,
    lockout,
    notices,
    recovery_codes,
    sessions,
    totp,
    users,
    verification,
)
from authgate.domain.context import Peer
from authgate.domain.passwords import Hasher
from authgate.domain.sealing import Sealer
from tests.support.memory import MemoryStores
from tests.support.totp import at_step_start, code

#: Who the use cases are told is asking.
PEER = Peer(ip="192.0.2.1", user_agent="Mozilla/5.0 (X11; Linux) Firefox/130")
#: How long an access token lives: revocations are remembered this long.
ACCESS_TTL = timedelta(minutes=15)
SESSION_POLICY = sessions.Policy(
    idle_timeout=timedelta(days=7), max_lifetime=timedelta(days=30)
)
LOCKOUT_POLICY = lockout.Policy(max_attempts=3, duration=timedelta(minutes=15))
PASSWORD = "correct horse battery staple"
#: How mail is queued: sealed under a test key, links on this base.
MAILING = verification.Mailing(
    sealer=Sealer(b"m" * 32), token_prefix="ag", public_url="https://auth.example"
)
#: Every notice on, queued like :data:`MAILING`'s mail.
NOTICES = notices.Policy(
    sealer=MAILING.sealer,
    kinds=frozenset(notices.Kind),
    public_url=MAILING.public_url,
)


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
    email_verified: bool = False,
) -> users.User:
    """An account, made the way registration makes it (``email_verified``: as
    if its link had been followed)."""
    account = await users.prepare(
        hasher, username=username, password=PASSWORD, email=email, min_length=8
    )
    return await users.add(
        stores,
        account,
        is_admin=is_admin,
        actor_id=None,
        peer=PEER,
        email_verified=email_verified,
    )


KEYS = factors.Keys(
    tickets=Sealer(b"t" * 32),
    totp=Sealer(b"s" * 32),
    codes=recovery_codes.Digester(b"c" * 32),
)


async def with_app(stores: MemoryStores, user: users.User) -> tuple[str, list[str]]:
    """``user`` with a confirmed authenticator app: its secret and the
    recovery codes that came with it."""
    at_step_start()
    started = await totp.begin(
        stores, KEYS.totp, user_id=user.id, account=user.username, issuer="Authgate"
    )
    codes = await factors.confirm_totp(
        stores, KEYS, user_id=user.id, code=code(started.secret, -1), peer=PEER
    )
    assert codes is not None
    return started.secret, codes
