from datetime import datetime
from typing import Any

from sqlalchemy import Row as CoreRow
from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from authgate.domain.credentials import Credential, CredentialKind
from authgate.storage.base import table
from authgate.storage.models.credentials import CredentialRow as Row


def _value(row: Row | CoreRow[Any]) -> Credential:
    kind: CredentialKind = "pat" if row.kind == "pat" else "key"
    return Credential(
        id=row.id,
        kind=kind,
        user_id=row.user_id,
        name=row.name,
        display_prefix=row.display_prefix,
        scopes=tuple(row.scopes),
        created_at=row.created_at,
        expires_at=row.expires_at,
        org_id=row.org_id,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
        expiry_noticed_at=row.expiry_noticed_at,
    )


#: Core, built once, for what every PAT or API key's first request (and
#: introspection) runs: no entity loading, no ORM evaluation of an UPDATE.
_CREDENTIALS = table(Row)
_BY_HASH = select(_CREDENTIALS).where(
    _CREDENTIALS.c.token_hash == bindparam("token_hash")
)
#: One conditional UPDATE: of instances racing, one sees a row changed.
_MARK_USED = (
    update(_CREDENTIALS)
    .where(
        _CREDENTIALS.c.id == bindparam("credential_id"),
        or_(
            _CREDENTIALS.c.last_used_at.is_(None),
            _CREDENTIALS.c.last_used_at < bindparam("unless_since"),
        ),
    )
    .values(last_used_at=bindparam("at"))
)


class CredentialRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, credential: Credential, token_hash: str) -> None:
        self._s.add(
            Row(
                id=credential.id,
                kind=credential.kind,
                token_hash=token_hash,
                user_id=credential.user_id,
                org_id=credential.org_id,
                name=credential.name,
                display_prefix=credential.display_prefix,
                scopes=list(credential.scopes),
                created_at=credential.created_at,
                expires_at=credential.expires_at,
            )
        )
        await self._s.flush()

    async def get(self, credential_id: str) -> Credential | None:
        row = await self._s.get(Row, credential_id)
        return _value(row) if row else None

    async def by_hash(self, token_hash: str) -> Credential | None:
        row = (await self._s.execute(_BY_HASH, {"token_hash": token_hash})).first()
        return _value(row) if row else None

    async def list_for_user(
        self, user_id: str, kind: CredentialKind
    ) -> list[Credential]:
        rows = await self._s.scalars(
            select(Row)
            .where(Row.user_id == user_id, Row.kind == kind, Row.revoked_at.is_(None))
            .order_by(Row.created_at.desc())
        )
        return [_value(r) for r in rows]

    async def revoke(self, credential_id: str, at: datetime) -> bool:
        result = await self._s.execute(
            update(Row)
            .where(Row.id == credential_id, Row.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def expiring(
        self, after: datetime, before: datetime, limit: int
    ) -> list[Credential]:
        rows = await self._s.scalars(
            select(Row)
            .where(
                Row.kind == "pat",
                Row.revoked_at.is_(None),
                Row.expiry_noticed_at.is_(None),
                Row.expires_at > after,
                Row.expires_at <= before,
            )
            .order_by(Row.expires_at)
            .limit(limit)
        )
        return [_value(r) for r in rows]

    async def expiry_noticed(self, credential_id: str, at: datetime) -> bool:
        result = await self._s.execute(
            update(Row)
            .where(Row.id == credential_id, Row.expiry_noticed_at.is_(None))
            .values(expiry_noticed_at=at)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def revoke_all_for_user(self, user_id: str, at: datetime) -> list[str]:
        return await self._revoke_where(Row.user_id == user_id, at)

    async def revoke_all_for_org(self, org_id: str, at: datetime) -> list[str]:
        return await self._revoke_where(Row.org_id == org_id, at)

    async def _revoke_where(
        self, owner: ColumnElement[bool], at: datetime
    ) -> list[str]:
        ids = list(
            await self._s.scalars(select(Row.id).where(owner, Row.revoked_at.is_(None)))
        )
        if ids:
            await self._s.execute(
                update(Row)
                .where(Row.id.in_(ids), Row.revoked_at.is_(None))
                .values(revoked_at=at)
            )
        return ids

    async def mark_used(
        self, credential_id: str, at: datetime, *, unless_since: datetime
    ) -> bool:
        result = await self._s.execute(
            _MARK_USED,
            {"credential_id": credential_id, "at": at, "unless_since": unless_since},
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
