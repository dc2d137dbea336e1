"""The refresh-token rule (``domain.refresh_tokens``): each refusal and what it
leaves behind, what a reuse revokes, and two uses of one token at once. On the
real store over a fresh SQLite database."""

import asyncio
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from authgate.domain import refresh_families, refresh_tokens, revocations, sessions
from authgate.domain.audit import Action, AuditQuery
from authgate.domain.context import Peer
from authgate.domain.refresh_tokens import Refusal, Refused, Rotated
from authgate.domain.users import User
from authgate.storage.db import Database, Tx
from authgate.util import clock
from authgate.util.ids import new_id

pytestmark = pytest.mark.anyio

PREFIX = "ag"
LIFETIME = refresh_tokens.Lifetime(idle=timedelta(days=7), max=timedelta(days=90))
SESSIONS = sessions.Policy(
    idle_timeout=timedelta(days=1), max_lifetime=timedelta(days=30)
)
ACCESS_TTL = timedelta(minutes=15)
PEER = Peer(ip="192.0.2.1", user_agent="test")
APP = "cli_app"


@pytest.fixture
async def db(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[Database]:
    path = tmp_path / "authgate.db"
    shutil.copy(sqlite_template, path)
    database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
async def user(db: Database) -> User:
    value = User(
        id=new_id("usr"),
        username=new_id("u").lower(),
        email=None,
        is_admin=False,
        password_hash=None,
        created_at=clock.now(),
    )
    async with db.transaction() as tx:
        await tx.users.add(value)
    return value


async def first_party(db: Database, user: User) -> refresh_tokens.Issued:
    """A sign-in's refresh token, bound to its session."""
    async with db.transaction() as tx:
        started = await sessions.start(
            tx, SESSIONS, user_id=user.id, prefix=PREFIX, peer=PEER, amr=("pwd",)
        )
        return await refresh_tokens.issue(
            tx,
            prefix=PREFIX,
            lifetime=LIFETIME,
            user_id=user.id,
            session_id=started.session.id,
        )


async def oauth(
    db: Database, user: User, lifetime: refresh_tokens.Lifetime = LIFETIME
) -> refresh_tokens.Issued:
    """The first refresh token of an OAuth grant to ``APP``."""
    async with db.transaction() as tx:
        return await refresh_tokens.issue(
            tx,
            prefix=PREFIX,
            lifetime=lifetime,
            user_id=user.id,
            family_id=new_id("ac"),
            client_id=APP,
            scope="read",
        )


async def use(tx: Tx, secret: str, client_id: str | None) -> Rotated | Refused:
    """What either refresh endpoint does with a presented token."""
    presented = await refresh_tokens.present(tx, secret, client_id=client_id)
    if isinstance(presented, Refused):
        return presented
    return await refresh_tokens.rotate(
        tx,
        presented,
        prefix=PREFIX,
        lifetime=LIFETIME,
        session_policy=SESSIONS,
        access_ttl=ACCESS_TTL,
        peer=PEER,
    )


async def refresh(
    db: Database, secret: str, client_id: str | None
) -> Rotated | Refused:
    async with db.transaction() as tx:
        return await use(tx, secret, client_id)


async def token(
    db: Database, issued: refresh_tokens.Issued
) -> refresh_families.RefreshToken:
    """The token as stored now."""
    async with db.transaction() as tx:
        found = await refresh_tokens.present(
            tx, issued.secret, client_id=issued.token.client_id
        )
    assert isinstance(found, refresh_tokens.Presented)
    return found.token


async def reuses_audited(db: Database) -> int:
    async with db.transaction() as tx:
        events = await tx.audit.query(AuditQuery(action=Action.REFRESH_REUSED.value))
    return len(events)


@pytest.mark.parametrize("client_id", [None, APP])
async def test_a_rotation_retires_the_token_and_continues_its_family(
    db: Database, user: User, client_id: str | None
) -> None:
    issued = await (oauth(db, user) if client_id else first_party(db, user))
    rotated = await refresh(db, issued.secret, client_id)
    assert isinstance(rotated, Rotated)
    assert rotated.user == user
    successor = rotated.successor.token
    assert successor.family_id == issued.token.family_id
    assert successor.family_created_at == issued.token.family_created_at
    assert successor.session_id == issued.token.session_id
    assert (successor.client_id, successor.scope) == (client_id, issued.token.scope)
    assert (await token(db, issued)).used_at is not None
    assert isinstance(await refresh(db, rotated.successor.secret, client_id), Rotated)


async def test_an_unknown_token_is_refused(db: Database, user: User) -> None:
    await first_party(db, user)
    assert await refresh(db, "ag_rt_unknown", None) == Refused(Refusal.UNKNOWN)


@pytest.mark.parametrize(
    ("issued_to", "presented_by"),
    [(APP, "cli_other"), (APP, None), (None, APP)],
    ids=["another client", "the first-party endpoint", "an OAuth client"],
)
async def test_a_token_presented_by_another_client_is_refused_untouched(
    db: Database, user: User, issued_to: str | None, presented_by: str | None
) -> None:
    issued = await (oauth(db, user) if issued_to else first_party(db, user))
    assert await refresh(db, issued.secret, presented_by) == Refused(
        Refusal.WRONG_CLIENT
    )
    # Neither used up nor taken for a reuse: its family is not revoked.
    assert await token(db, issued) == issued.token
    assert await reuses_audited(db) == 0
    assert isinstance(await refresh(db, issued.secret, issued_to), Rotated)


async def test_a_revoked_token_is_refused(db: Database, user: User) -> None:
    issued = await oauth(db, user)
    async with db.transaction() as tx:
        await tx.refresh_tokens.revoke_family(issued.token.family_id, clock.now())
    assert await refresh(db, issued.secret, APP) == Refused(Refusal.REVOKED)
    assert await reuses_audited(db) == 0


async def test_an_expired_token_is_refused(db: Database, user: User) -> None:
    issued = await oauth(
        db, user, refresh_tokens.Lifetime(idle=timedelta(0), max=LIFETIME.max)
    )
    assert await refresh(db, issued.secret, APP) == Refused(Refusal.EXPIRED)
    assert (await token(db, issued)).used_at is None


async def test_a_disabled_users_token_is_refused(db: Database, user: User) -> None:
    issued = await first_party(db, user)
    async with db.transaction() as tx:
        await tx.users.set_disabled(user.id, clock.now())
    assert await refresh(db, issued.secret, None) == Refused(Refusal.USER_INACTIVE)
    assert (await token(db, issued)).used_at is None


async def test_a_token_dies_with_its_session(db: Database, user: User) -> None:
    issued = await first_party(db, user)
    session_id = issued.token.session_id
    assert session_id is not None
    async with db.transaction() as tx:
        await tx.sessions.revoke(session_id, clock.now(), "logout")
    assert await refresh(db, issued.secret, None) == Refused(Refusal.SESSION_GONE)
    assert (await token(db, issued)).used_at is None


async def test_a_first_party_token_without_a_session_is_refused(
    db: Database, user: User
) -> None:
    async with db.transaction() as tx:
        issued = await refresh_tokens.issue(
            tx, prefix=PREFIX, lifetime=LIFETIME, user_id=user.id
        )
    assert await refresh(db, issued.secret, None) == Refused(Refusal.SESSION_GONE)
    assert (await token(db, issued)).used_at is None


async def test_reuse_revokes_a_first_party_family_and_its_session(
    db: Database, user: User
) -> None:
    issued = await first_party(db, user)
    rotated = await refresh(db, issued.secret, None)
    assert isinstance(rotated, Rotated)
    assert await refresh(db, issued.secret, None) == Refused(Refusal.REUSED)
    assert (await token(db, rotated.successor)).revoked_at is not None
    async with db.transaction() as tx:
        session = await tx.sessions.get(issued.token.session_id or "")
        # First-party access tokens name the session, not the family.
        assert not await revocations.is_revoked(tx, [issued.token.family_id])
    assert session is not None
    assert session.revoked_at is not None
    assert await reuses_audited(db) == 1
    assert await refresh(db, rotated.successor.secret, None) == Refused(Refusal.REVOKED)


async def test_reuse_revokes_an_oauth_family_and_its_access_tokens(
    db: Database, user: User
) -> None:
    issued = await oauth(db, user)
    rotated = await refresh(db, issued.secret, APP)
    assert isinstance(rotated, Rotated)
    assert await refresh(db, issued.secret, APP) == Refused(Refusal.REUSED)
    assert (await token(db, rotated.successor)).revoked_at is not None
    async with db.transaction() as tx:
        assert await revocations.is_revoked(tx, [issued.token.family_id])
        events = await tx.audit.query(AuditQuery(action=Action.REFRESH_REUSED.value))
    assert [(e.actor_id, e.target_id) for e in events] == [
        (user.id, issued.token.family_id)
    ]
    assert events[0].details == {"session_id": None, "client_id": APP}


@pytest.mark.parametrize("client_id", [None, APP])
async def test_two_uses_at_once_rotate_once_and_revoke_the_family(
    db: Database, user: User, client_id: str | None
) -> None:
    issued = await (oauth(db, user) if client_id else first_party(db, user))
    outcomes = await asyncio.gather(
        refresh(db, issued.secret, client_id), refresh(db, issued.secret, client_id)
    )
    rotated = [o for o in outcomes if isinstance(o, Rotated)]
    assert len(rotated) == 1
    assert Refused(Refusal.REUSED) in outcomes
    assert (await token(db, rotated[0].successor)).revoked_at is not None


async def test_a_family_never_outlives_its_cap(db: Database, user: User) -> None:
    lifetime = refresh_tokens.Lifetime(idle=timedelta(days=1), max=timedelta(days=3))
    issued = await oauth(db, user, lifetime)
    cap = issued.token.family_created_at + lifetime.max
    secret = issued.secret
    for _ in range(3):
        clock.advance(timedelta(hours=23).total_seconds())
        async with db.transaction() as tx:
            presented = await refresh_tokens.present(tx, secret, client_id=APP)
            assert isinstance(presented, refresh_tokens.Presented)
            outcome = await refresh_tokens.rotate(
                tx,
                presented,
                prefix=PREFIX,
                lifetime=lifetime,
                session_policy=SESSIONS,
                access_ttl=ACCESS_TTL,
                peer=PEER,
            )
        assert isinstance(outcome, Rotated)
        secret = outcome.successor.secret
        expires_at = outcome.successor.token.expires_at
    assert expires_at == cap
    clock.advance(timedelta(hours=3).total_seconds())  # 72 h: the cap
    assert await refresh(db, secret, APP) == Refused(Refusal.EXPIRED)


async def test_ending_logins_stops_rotation(db: Database, user: User) -> None:
    issued = await oauth(db, user)
    async with db.transaction() as tx:
        await sessions.end_logins(
            tx,
            user.id,
            reason="revoke_all",
            actor_id=user.id,
            access_ttl=ACCESS_TTL,
            peer=PEER,
        )
    assert await refresh(db, issued.secret, APP) == Refused(Refusal.REVOKED)
