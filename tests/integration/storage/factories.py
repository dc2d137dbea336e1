"""Values the conformance suites store, and a way to make transactions overlap."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from authgate.domain.invites import Invite
from authgate.domain.passkeys import Passkey
from authgate.domain.refresh_families import RefreshToken
from authgate.domain.sessions import Session
from authgate.domain.users import User
from authgate.storage.db import Database, Tx
from authgate.util import tokens
from authgate.util.ids import new_id

#: A fixed instant with microseconds, so round trips are checked exactly.
T0 = datetime(2030, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def user(name: str | None = None, **fields: Any) -> User:
    values: dict[str, Any] = {
        "id": new_id("usr"),
        "username": name or new_id("u").lower(),
        "email": None,
        "is_admin": False,
        "password_hash": "$argon2id$fake",
        "created_at": T0,
    }
    values.update(fields)
    return User(**values)


def session(user_id: str, **fields: Any) -> tuple[Session, str]:
    token = tokens.mint("ag", "ses")
    values: dict[str, Any] = {
        "id": new_id("ses"),
        "user_id": user_id,
        "created_at": T0,
        "last_active_at": T0,
        "expires_at": T0 + timedelta(days=30),
        "ip": "127.0.0.1",
        "user_agent": "authgate-cli/0.1",
        "device": "authgate-cli",
        "authenticated_at": T0,
        "amr": ("pwd",),
    }
    values.update(fields)
    return Session(**values), tokens.digest(token)


def refresh_token(user_id: str, **fields: Any) -> tuple[RefreshToken, str]:
    token_id = new_id("rt")
    values: dict[str, Any] = {
        "id": token_id,
        "family_id": token_id,
        "user_id": user_id,
        "created_at": T0,
        "expires_at": T0 + timedelta(days=7),
        "family_created_at": T0,
    }
    values.update(fields)
    return RefreshToken(**values), tokens.digest(tokens.mint("ag", "rt"))


def invite(**fields: Any) -> tuple[Invite, str]:
    values: dict[str, Any] = {
        "id": new_id("inv"),
        "created_by": None,
        "created_at": T0,
        "expires_at": T0 + timedelta(days=7),
    }
    values.update(fields)
    return Invite(**values), tokens.digest(tokens.mint("ag", "inv"))


async def add_user(db: Database, **fields: Any) -> User:
    value = user(**fields)
    async with db.transaction() as tx:
        await tx.users.add(value)
    return value


async def concurrently(
    db: Database, n: int, work: Callable[[Tx], Awaitable[Any]]
) -> list[Any]:
    """Run ``work`` in ``n`` transactions at once.

    On PostgreSQL every transaction first reads, then waits until all ``n`` are
    open, so the writes really race. SQLite transactions take the write lock at
    BEGIN (``BEGIN IMMEDIATE``) and queue behind each other; waiting there would
    deadlock, so they are only started together.
    """
    barrier = asyncio.Barrier(n) if db.engine.dialect.name == "postgresql" else None

    async def one() -> Any:
        async with db.transaction() as tx:
            await tx.users.count()  # the transaction is open from here
            if barrier is not None:
                await barrier.wait()
            return await work(tx)

    return list(await asyncio.gather(*(one() for _ in range(n))))


def passkey(user_id: str, **fields: Any) -> Passkey:
    values: dict[str, Any] = {
        "id": new_id("pk"),
        "user_id": user_id,
        "credential_id": new_id("cred"),
        "public_key": b"\xa5\x01\x02",
        "sign_count": 0,
        "transports": ("internal", "hybrid"),
        "aaguid": "00000000-0000-0000-0000-000000000000",
        "backed_up": False,
        "name": "Laptop",
        "created_at": T0,
    }
    values.update(fields)
    return Passkey(**values)
