from datetime import datetime
from typing import Any

from sqlalchemy import Row as CoreRow
from sqlalchemy import bindparam, delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.domain.clients import AUTH_METHODS, Client, Registration
from authgate.storage.base import table
from authgate.storage.models.oauth import ClientRow as Row
from authgate.storage.models.oauth import ConsentRow
from authgate.storage.models.sessions import RefreshTokenRow

_REGISTRATIONS: dict[str, Registration] = {
    "admin": "admin",
    "dynamic": "dynamic",
    "metadata_document": "metadata_document",
}


def _value(row: Row | CoreRow[Any]) -> Client:
    method = next(m for m in AUTH_METHODS if m == row.auth_method)
    return Client(
        id=row.id,
        name=row.name,
        redirect_uris=tuple(row.redirect_uris),
        grant_types=tuple(row.grant_types),
        auth_method=method,
        created_at=row.created_at,
        scope=row.scope,
        secret_hash=row.secret_hash,
        registration=_REGISTRATIONS[row.registration],
        created_by=row.created_by,
        client_uri=row.client_uri,
        registered_from=row.registered_from,
        post_logout_redirect_uris=tuple(row.post_logout_redirect_uris or ()),
    )


_CLIENTS = table(Row)
#: Core, built once: every client authentication reads it
_BY_ID = select(_CLIENTS).where(_CLIENTS.c.id == bindparam("id"))


class ClientRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, client: Client) -> None:
        self._s.add(
            Row(
                id=client.id,
                name=client.name,
                redirect_uris=list(client.redirect_uris),
                grant_types=list(client.grant_types),
                auth_method=client.auth_method,
                scope=client.scope,
                secret_hash=client.secret_hash,
                registration=client.registration,
                created_by=client.created_by,
                client_uri=client.client_uri,
                registered_from=client.registered_from,
                post_logout_redirect_uris=list(client.post_logout_redirect_uris),
                created_at=client.created_at,
            )
        )
        await self._s.flush()

    async def get(self, client_id: str) -> Client | None:
        row = (await self._s.execute(_BY_ID, {"id": client_id})).first()
        return _value(row) if row else None

    async def all(self) -> list[Client]:
        rows = await self._s.scalars(select(Row).order_by(Row.created_at.desc()))
        return [_value(r) for r in rows]

    async def delete(self, client_id: str) -> bool:
        result = await self._s.execute(delete(Row).where(Row.id == client_id))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def prune_abandoned(
        self, registered_before: datetime, limit: int
    ) -> list[str]:
        consented = exists().where(ConsentRow.client_id == Row.id)
        holds_a_token = exists().where(
            RefreshTokenRow.client_id == Row.id, RefreshTokenRow.revoked_at.is_(None)
        )
        batch = (
            select(Row.id)
            .where(
                Row.registration == "dynamic",
                Row.created_at < registered_before,
                ~consented,
                ~holds_a_token,
            )
            .limit(limit)
        )
        gone = delete(Row).where(Row.id.in_(batch)).returning(Row.id)
        return list(await self._s.scalars(gone))
