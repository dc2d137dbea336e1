from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Table,
    bindparam,
    delete,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy import (
    Row as CoreRow,
)
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.domain.refresh_families import RefreshToken
from authgate.storage import prefetched
from authgate.storage.base import table
from authgate.storage.models.sessions import RefreshTokenRow as Row
from authgate.storage.models.sessions import SessionRow
from authgate.storage.models.users import UserRow
from authgate.storage.repos import authentications
from authgate.storage.repos.sessions import session_value
from authgate.storage.repos.users import user_value


def _part(row: CoreRow[Any], of: Table) -> Any:
    """One table's columns of a joined row, by name, as its value reader
    expects them."""
    return SimpleNamespace(**{c.name: row._mapping[c] for c in of.c})


def _value(row: Row | CoreRow[Any]) -> RefreshToken:
    return RefreshToken(
        id=row.id,
        family_id=row.family_id,
        user_id=row.user_id,
        created_at=row.created_at,
        expires_at=row.expires_at,
        family_created_at=row.family_created_at,
        session_id=row.session_id,
        client_id=row.client_id,
        scope=row.scope,
        audience=row.audience,
        used_at=row.used_at,
        revoked_at=row.revoked_at,
        authentication=authentications.read(row.auth_time, row.amr),
    )


#: Core, built once, for what every sign-in and refresh runs: no unit of
#: work, no entity loading, and no ORM evaluation of an UPDATE's criteria.
_TOKENS = table(Row)
_INSERT = insert(_TOKENS)
_USERS, _SESSIONS = table(UserRow), table(SessionRow)
#: The token with its user and its session (an OAuth client's token may have
#: none), which a refresh reads next (``storage/prefetched.py``).
_BY_HASH = (
    select(_TOKENS, _USERS, _SESSIONS)
    .select_from(
        _TOKENS.join(_USERS, _USERS.c.id == _TOKENS.c.user_id).outerjoin(
            _SESSIONS, _SESSIONS.c.id == _TOKENS.c.session_id
        )
    )
    .where(_TOKENS.c.token_hash == bindparam("token_hash"))
)
#: A token revoked since it was read is no more usable than a used one: this
#: is what a rotation racing a revocation trips on.
_MARK_USED = (
    update(_TOKENS)
    .where(
        _TOKENS.c.id == bindparam("token_id"),
        _TOKENS.c.used_at.is_(None),
        _TOKENS.c.revoked_at.is_(None),
    )
    .values(used_at=bindparam("at"))
)


class RefreshTokenRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, token: RefreshToken, token_hash: str) -> None:
        await self._s.execute(
            _INSERT,
            {
                "id": token.id,
                "token_hash": token_hash,
                "family_id": token.family_id,
                "user_id": token.user_id,
                "session_id": token.session_id,
                "client_id": token.client_id,
                "scope": token.scope,
                "audience": token.audience,
                "created_at": token.created_at,
                "expires_at": token.expires_at,
                "family_created_at": token.family_created_at,
                **authentications.columns(token.authentication),
            },
        )

    async def by_hash(self, token_hash: str) -> RefreshToken | None:
        row = (await self._s.execute(_BY_HASH, {"token_hash": token_hash})).first()
        if row is None:
            return None
        token = _value(_part(row, _TOKENS))
        prefetched.keep(self._s, token.user_id, user_value(_part(row, _USERS)))
        if row._mapping[_SESSIONS.c.id] is not None:
            session = session_value(_part(row, _SESSIONS))
            prefetched.keep(self._s, session.id, session)
        return token

    async def mark_used(self, token_id: str, at: datetime) -> bool:
        result = await self._s.execute(_MARK_USED, {"token_id": token_id, "at": at})
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def revoke_family(self, family_id: str, at: datetime) -> int:
        await self._lock(Row.family_id == family_id)
        return await self._revoke_families([family_id], at)

    async def _lock(self, *where: ColumnElement[bool]) -> list[tuple[str, str | None]]:
        """Lock the live tokens ``where`` picks; their (family, client) pairs.

        A rotation in flight holds its token's row until it commits with the
        successor; waiting here for that lock, and revoking by family in a
        later statement (a new snapshot on PostgreSQL), catches the successor
        too. A rotation that comes after finds its token revoked."""
        rows = await self._s.execute(
            select(Row.family_id, Row.client_id)
            .where(*where, Row.revoked_at.is_(None))
            .with_for_update()
        )
        return [(family, client) for family, client in rows]

    async def _revoke_families(self, families: list[str], at: datetime) -> int:
        if not families:
            return 0
        result = await self._s.execute(
            update(Row)
            .where(Row.family_id.in_(families), Row.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def revoke_for_client(self, client_id: str, at: datetime) -> list[str]:
        families = list(
            await self._s.scalars(
                select(Row.family_id)
                .where(Row.client_id == client_id, Row.revoked_at.is_(None))
                .distinct()
            )
        )
        if families:
            await self._s.execute(
                update(Row)
                .where(Row.client_id == client_id, Row.revoked_at.is_(None))
                .values(revoked_at=at)
            )
        return families

    async def revoke_for_user(
        self,
        user_id: str,
        at: datetime,
        *,
        client_id: str | None = None,
        keep_session: str | None = None,
    ) -> list[str]:
        live: list[ColumnElement[bool]] = [Row.user_id == user_id]
        if client_id is not None:
            live.append(Row.client_id == client_id)
        if keep_session is not None:
            live.append(or_(Row.session_id.is_(None), Row.session_id != keep_session))
        locked = await self._lock(*live)
        await self._revoke_families(list(dict.fromkeys(f for f, _ in locked)), at)
        return list(dict.fromkeys(f for f, client in locked if client is not None))

    async def live_heads(self, user_id: str, at: datetime) -> list[RefreshToken]:
        rows = await self._s.scalars(
            select(Row)
            .where(
                Row.user_id == user_id,
                Row.client_id.is_not(None),
                Row.used_at.is_(None),
                Row.revoked_at.is_(None),
                Row.expires_at > at,
            )
            .order_by(Row.created_at.desc())
        )
        return [_value(row) for row in rows]

    async def prune(self, family_started_before: datetime, limit: int) -> int:
        batch = (
            select(Row.id)
            .where(Row.family_created_at < family_started_before)
            .limit(limit)
        )
        result = await self._s.execute(delete(Row).where(Row.id.in_(batch)))
        return int(result.rowcount)  # type: ignore[attr-defined]
