"""Rows a repository read along with its own, kept for the one next look-up of
each in the same transaction.

A refresh reads its token, then the token's user, then its session: three
statements, three round trips to PostgreSQL. ``RefreshTokenRepo.by_hash``
reads all three in one statement and keeps the user and the session here, in
the transaction's ``AsyncSession.info``; ``users.get`` and ``sessions.get``
take them from here once, and the domain asks as it always did. Taken once,
so a later look-up in the same transaction (after a change, say) reads the
database again; a transaction's session is never reused, so nothing kept
outlives it.
"""

from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


def keep(session: AsyncSession, key: str, value: object) -> None:
    session.info[(type(value), key)] = value


def take(session: AsyncSession, kind: type[T], key: str) -> T | None:
    found = session.info.pop((kind, key), None)
    return found if isinstance(found, kind) else None
