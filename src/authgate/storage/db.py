"""The engine and the unit of work.

``Database.transaction()`` is the one way to change storage: it yields a
:class:`Tx` holding every repository over one database transaction, commits
once at the end (rolls back on error), and only after a commit tells the
revocation fan-out which cached verifications to drop.

``Database.read()`` yields the same :class:`Tx` over read-only connections,
for look-ups on the request path (a verifier's cache miss, a user, the first
step of a sign-in, a client credentials grant). On SQLite it is a transaction
that takes no write lock, so it never queues behind a writer; on PostgreSQL
each statement runs on its own (autocommit). A write inside it fails on every
database (SQLite ``query_only``, PostgreSQL ``default_transaction_read_only``).

On PostgreSQL every statement, ``BEGIN``, ``COMMIT`` and ping is a round
trip, and each costs this process CPU (a send, a wake-up, a greenlet hop) as
much as the server's. So a transaction sends only its statements between one
``BEGIN`` and one ``COMMIT``: no ``pool_pre_ping`` (three round trips in
asyncpg, checked instead at checkout without any), reads in autocommit on a
read-only pool (one round trip, not three), and the hot paths' statements
built once as Core (the compiled cache and asyncpg's prepared statements,
``prepared_statement_cache_size`` at its default of 100, are then hits).
``tests/integration/scale/test_statements.py`` pins what a sign-in, both
refreshes and a client credentials grant send.

SQLAlchemy stays on those paths, measured against asyncpg called directly
(``benchmarks/statements.py``, 5,000 runs on one connection, this 2-core
machine under load; CPU of the calling process per operation):

=====================================  ==========  ==========
                                        SQLAlchemy  asyncpg
=====================================  ==========  ==========
primary-key SELECT (Core, AsyncSession)   ~260 µs     ~85 µs
single-row UPDATE (Core)                  ~270 µs     ~95 µs
``BEGIN``, SELECT, ``COMMIT``            ~1,150 µs   ~230 µs
=====================================  ==========  ==========

asyncpg directly would save about 0.2 ms a statement and 0.9 ms a
transaction, but needs a second implementation of each hot store (SQLite
stays on SQLAlchemy) sharing SQLAlchemy's transaction, and one store per
Protocol is what the conformance suites prove. Round trips cost more than
either, so they went first; with them gone, the asyncpg path is the next
step if the grants still miss their goal with workers.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from typing import Any, Generic, TypeVar

from sqlalchemy import event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from authgate.domain.audit import AuditEvent
from authgate.storage import sqlite
from authgate.storage.repos.audit import AuditRepo
from authgate.storage.repos.backoffice import BackOfficeRepo
from authgate.storage.repos.clients import ClientRepo
from authgate.storage.repos.credentials import CredentialRepo
from authgate.storage.repos.email_tokens import EmailTokenRepo
from authgate.storage.repos.grants import (
    AuthorizationCodeRepo,
    ConsentRepo,
    DeviceCodeRepo,
)
from authgate.storage.repos.identities import IdentityRepo
from authgate.storage.repos.invalidations import InvalidationRepo
from authgate.storage.repos.invites import InviteRepo
from authgate.storage.repos.lockout import LockoutRepo
from authgate.storage.repos.mail import MailRepo
from authgate.storage.repos.orgs import OrgRepo
from authgate.storage.repos.passkeys import PasskeyRepo
from authgate.storage.repos.recovery_codes import RecoveryCodeRepo
from authgate.storage.repos.recovery_keys import RecoveryKeyRepo
from authgate.storage.repos.refresh_tokens import RefreshTokenRepo
from authgate.storage.repos.replay import ReplayRepo
from authgate.storage.repos.revocations import RevocationRepo
from authgate.storage.repos.sessions import SessionRepo
from authgate.storage.repos.signing_keys import SigningKeyRepo
from authgate.storage.repos.totp import TotpRepo
from authgate.storage.repos.users import UserRepo
from authgate.util import clock

R = TypeVar("R")

#: PostgreSQL channel that wakes the instances' invalidation feeds.
NOTIFY_CHANNEL = "authgate_invalidations"


class _Repo(Generic[R]):
    """A repository made on first use: a transaction touches two or three of
    the nineteen, and a login runs two transactions."""

    def __init__(self, kind: Callable[[AsyncSession], R]) -> None:
        self.kind = kind

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, tx: "Tx", owner: type | None = None) -> R:
        repo = self.kind(tx.session)
        tx.__dict__[self.name] = repo  # found there from now on
        return repo


class Tx:
    """Every store over one transaction (implements ``domain.stores.Stores``)."""

    users = _Repo(UserRepo)
    sessions = _Repo(SessionRepo)
    refresh_tokens = _Repo(RefreshTokenRepo)
    lockout = _Repo(LockoutRepo)
    invites = _Repo(InviteRepo)
    signing_keys = _Repo(SigningKeyRepo)
    audit = _Repo(AuditRepo)
    credentials = _Repo(CredentialRepo)
    recovery_keys = _Repo(RecoveryKeyRepo)
    backoffice = _Repo(BackOfficeRepo)
    orgs = _Repo(OrgRepo)
    clients = _Repo(ClientRepo)
    authorization_codes = _Repo(AuthorizationCodeRepo)
    device_codes = _Repo(DeviceCodeRepo)
    consents = _Repo(ConsentRepo)
    revocations = _Repo(RevocationRepo)
    identities = _Repo(IdentityRepo)
    replay = _Repo(ReplayRepo)
    passkeys = _Repo(PasskeyRepo)
    invalidations = _Repo(InvalidationRepo)
    totp = _Repo(TotpRepo)
    recovery_codes = _Repo(RecoveryCodeRepo)
    mail = _Repo(MailRepo)
    email_tokens = _Repo(EmailTokenRepo)

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.invalidated: list[str] = []

    def invalidate(self, *tags: str) -> None:
        self.invalidated.extend(tags)

    async def exclusive(self, key: int) -> bool:
        """Whether this transaction, until it ends, is the only one holding
        ``key``; never waits. PostgreSQL: a transaction-level advisory lock.
        SQLite: always, since a write transaction holds the file's write lock
        from its start (``BEGIN IMMEDIATE``), so every other writer, in any
        process, waits for it to end."""
        if self.session.get_bind().dialect.name != "postgresql":
            return True
        locked = await self.session.scalar(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key}
        )
        return bool(locked)


def create_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, module=sqlite.LoopDriver())
        event.listen(engine.sync_engine, "connect", sqlite.configure)
        event.listen(engine.sync_engine, "begin", sqlite.begin_immediate)
        return engine
    return _postgresql(url)


def create_read_engine(url: str, engine: AsyncEngine) -> AsyncEngine:
    """Where ``Database.read()`` transactions run. SQLite: a pool of its own whose
    connections are ``query_only`` and begin DEFERRED (a WAL reader takes no
    lock). PostgreSQL: a pool of its own in autocommit, whose sessions are
    ``default_transaction_read_only``: each statement is its own read-only
    transaction, one round trip instead of three (``BEGIN READ ONLY``, the
    statement, ``COMMIT``). Under READ COMMITTED a transaction takes a new
    snapshot for each statement anyway, so the reads see exactly what they
    saw inside one."""
    if url.startswith("sqlite"):
        if _sqlite_file(url) is None:
            return engine  # a second pool would open a second, empty database
        reader = create_async_engine(url, module=sqlite.LoopDriver())
        event.listen(reader.sync_engine, "connect", sqlite.configure_reader)
        event.listen(reader.sync_engine, "begin", sqlite.begin_deferred)
        return reader
    return _postgresql(
        url,
        isolation_level="AUTOCOMMIT",
        connect_args={"server_settings": {"default_transaction_read_only": "on"}},
    )


#: Connections each pool holds, all of them kept open: a request beyond them
#: waits for one instead of opening a connection of its own. An overflow
#: connection is closed again when it is given back to a full pool, so under
#: load (64 connections' worth of requests) every burst paid asyncpg's
#: connect and PostgreSQL's backend start-up: a tenth of a client
#: credentials grant's CPU here, and most of the database's. One event loop
#: rarely has more than a few statements in flight at once. A process has
#: two pools (writes, reads) and ``authgate serve`` one process per core:
#: 2 * 10 * 4 workers stays under PostgreSQL's default ``max_connections``
#: of 100.
POOL_SIZE = 10
POOL_OVERFLOW = 0


def _postgresql(url: str, **options: Any) -> AsyncEngine:
    """A pool of asyncpg connections checked when taken out without a round
    trip: ``pool_pre_ping`` would cost three (asyncpg pings in a transaction
    of its own) before every transaction."""
    engine = create_async_engine(
        url, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW, **options
    )
    event.listen(engine.sync_engine.pool, "checkout", _still_open)
    return engine


def _still_open(
    dbapi_connection: Any, _record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
) -> None:
    """Refuse a connection the server has closed (a restart, an idle timeout,
    ``pg_terminate_backend``): asyncpg has seen its socket end, so the pool
    drops it and hands out another, as after a failed ping."""
    if dbapi_connection.driver_connection.is_closed():
        raise exc.DisconnectionError("the server closed this connection")


def _sqlite_file(url: str) -> str | None:
    """The database file of a SQLite URL; ``None`` for an in-memory database."""
    parsed = make_url(url)
    if parsed.database in (None, "", ":memory:") or (
        parsed.query.get("mode") == "memory"
    ):
        return None
    return str(parsed.database)


class Database:
    def __init__(
        self,
        url: str,
        on_invalidate: Callable[[list[str]], Awaitable[None]] | None = None,
    ) -> None:
        self.url = url
        self.engine = create_engine(url)
        self.read_engine = create_read_engine(url, self.engine)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = async_sessionmaker(
            self.read_engine, expire_on_commit=False
        )
        self.on_invalidate = on_invalidate
        path = _sqlite_file(url) if url.startswith("sqlite") else None
        self._checkpointer = sqlite.Checkpointer(path) if path else None
        #: SQLite: this process's writers take turns here, on the event loop,
        #: before ``BEGIN IMMEDIATE`` (see ``storage.sqlite``).
        self._write_turns = _LoopLocal() if url.startswith("sqlite") else None
        #: Told the audit events of each transaction once it has committed
        #: (the metrics count sign-ins and other events from them).
        self.on_audited: Callable[[list[AuditEvent]], None] | None = None
        #: Told once a transaction that queued mail has committed (the mail
        #: sender wakes, so what a request queued goes out at once).
        self.on_mail_queued: Callable[[], None] | None = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """The one way to change storage (see the module docstring). Never
        nest two: on SQLite the inner one would wait for the outer one's turn,
        on PostgreSQL for its row locks."""
        turn = self._write_turns.lock() if self._write_turns else nullcontext()
        async with turn:
            async with _begun(self._sessions) as session:
                tx = Tx(session)
                yield tx
                if tx.invalidated:
                    # The outbox row commits with the revocation itself, so no
                    # instance can miss it; NOTIFY (PostgreSQL) is delivered at
                    # commit and wakes every instance's feed at once.
                    await tx.invalidations.add(sorted(set(tx.invalidated)), clock.now())
                    if session.get_bind().dialect.name == "postgresql":
                        await session.execute(
                            text(f"SELECT pg_notify('{NOTIFY_CHANNEL}', '')")
                        )
            if self._checkpointer is not None:
                await self._checkpointer.committed()
        if tx.audit.added and self.on_audited is not None:
            self.on_audited(tx.audit.added)
        if tx.mail.queued and self.on_mail_queued is not None:
            self.on_mail_queued()
        if tx.invalidated and self.on_invalidate is not None:
            await self.on_invalidate(tx.invalidated)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Tx]:
        """A read-only transaction (see the module docstring), begun by its
        first statement and ended by giving the connection back: a request
        that finds everything in memory (a known client, a kept answer) makes
        no transaction at all, and a read has nothing to commit."""
        session = self._read_sessions()
        try:
            yield Tx(session)
        finally:
            await session.close()

    async def ping(self) -> bool:
        try:
            async with self._read_sessions() as session:
                await session.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def close(self) -> None:
        if self.read_engine.sync_engine.pool is not self.engine.sync_engine.pool:
            await self.read_engine.dispose()
        await self.engine.dispose()


@asynccontextmanager
async def _begun(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session in a transaction, closed without ``AsyncSession``'s own exit:
    that closes on a new task under ``asyncio.shield``, 0.1 ms a transaction
    here, to protect a close that has nothing left to do (ending the
    transaction already gave the connection back to the pool)."""
    session = sessions()
    try:
        async with session.begin():
            yield session
    finally:
        await session.close()


class _LoopLocal:
    """An asyncio lock per event loop: a lock is bound to the loop it first
    waits on, and a ``Database`` may outlive one (the CLI, tests)."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = asyncio.Lock()

    def lock(self) -> AbstractAsyncContextManager[None]:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop, self._lock = loop, asyncio.Lock()
        return self._lock
