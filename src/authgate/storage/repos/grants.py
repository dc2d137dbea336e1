from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.domain.assurance import Authentication
from authgate.domain.grants import (
    AuthorizationCode,
    Consent,
    DeviceCode,
    DeviceStatus,
)
from authgate.storage.models.oauth import AuthorizationCodeRow as CodeRow
from authgate.storage.models.oauth import ConsentRow
from authgate.storage.models.oauth import DeviceCodeRow as DeviceRow
from authgate.storage.repos import authentications


def _code(row: CodeRow) -> AuthorizationCode:
    return AuthorizationCode(
        id=row.id,
        client_id=row.client_id,
        user_id=row.user_id,
        redirect_uri=row.redirect_uri,
        code_challenge=row.code_challenge,
        scope=row.scope,
        resource=row.resource,
        created_at=row.created_at,
        expires_at=row.expires_at,
        nonce=row.nonce,
        used_at=row.used_at,
        authentication=authentications.read(row.auth_time, row.amr),
    )


class AuthorizationCodeRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, code: AuthorizationCode, code_hash: str) -> None:
        self._s.add(
            CodeRow(
                id=code.id,
                code_hash=code_hash,
                client_id=code.client_id,
                user_id=code.user_id,
                redirect_uri=code.redirect_uri,
                code_challenge=code.code_challenge,
                scope=code.scope,
                resource=code.resource,
                nonce=code.nonce,
                created_at=code.created_at,
                expires_at=code.expires_at,
                **authentications.columns(code.authentication),
            )
        )
        await self._s.flush()

    async def by_hash(self, code_hash: str) -> AuthorizationCode | None:
        row = await self._s.scalar(
            select(CodeRow).where(CodeRow.code_hash == code_hash)
        )
        return _code(row) if row else None

    async def mark_used(self, code_id: str, at: datetime) -> bool:
        result = await self._s.execute(
            update(CodeRow)
            .where(CodeRow.id == code_id, CodeRow.used_at.is_(None))
            .values(used_at=at)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def prune(self, before: datetime) -> int:
        result = await self._s.execute(
            delete(CodeRow).where(CodeRow.expires_at < before)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def used_since(
        self, user_id: str, since: datetime, *, client_id: str | None = None
    ) -> list[str]:
        # A code is redeemed before it expires: expires_at (indexed) narrows.
        query = select(CodeRow.id).where(
            CodeRow.expires_at >= since,
            CodeRow.used_at >= since,
            CodeRow.user_id == user_id,
        )
        if client_id is not None:
            query = query.where(CodeRow.client_id == client_id)
        return list(await self._s.scalars(query))


def _device(row: DeviceRow) -> DeviceCode:
    return DeviceCode(
        id=row.id,
        client_id=row.client_id,
        scope=row.scope,
        resource=row.resource,
        created_at=row.created_at,
        expires_at=row.expires_at,
        interval=row.interval,
        status=DeviceStatus(row.status),
        user_id=row.user_id,
        last_polled_at=row.last_polled_at,
        decided_at=row.decided_at,
        authentication=authentications.read(row.auth_time, row.amr),
    )


class DeviceCodeRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(
        self, device: DeviceCode, device_code_hash: str, user_code_hash: str
    ) -> None:
        self._s.add(
            DeviceRow(
                id=device.id,
                device_code_hash=device_code_hash,
                user_code_hash=user_code_hash,
                client_id=device.client_id,
                scope=device.scope,
                resource=device.resource,
                interval=device.interval,
                status=device.status.value,
                created_at=device.created_at,
                expires_at=device.expires_at,
            )
        )
        await self._s.flush()

    async def by_device_code_hash(self, code_hash: str) -> DeviceCode | None:
        row = await self._s.scalar(
            select(DeviceRow).where(DeviceRow.device_code_hash == code_hash)
        )
        return _device(row) if row else None

    async def by_user_code_hash(self, code_hash: str) -> DeviceCode | None:
        row = await self._s.scalar(
            select(DeviceRow)
            .where(DeviceRow.user_code_hash == code_hash)
            .order_by(DeviceRow.created_at.desc())
            .limit(1)
        )
        return _device(row) if row else None

    async def record_poll(self, device_id: str, at: datetime, interval: int) -> None:
        await self._s.execute(
            update(DeviceRow)
            .where(DeviceRow.id == device_id)
            .values(last_polled_at=at, interval=interval)
        )

    async def decide(
        self,
        device_id: str,
        status: DeviceStatus,
        user_id: str,
        at: datetime,
        authentication: Authentication | None,
    ) -> bool:
        result = await self._s.execute(
            update(DeviceRow)
            .where(
                DeviceRow.id == device_id,
                DeviceRow.status == DeviceStatus.PENDING.value,
            )
            .values(
                status=status.value,
                user_id=user_id,
                decided_at=at,
                **authentications.columns(authentication),
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def mark_used(self, device_id: str, at: datetime) -> bool:
        result = await self._s.execute(
            update(DeviceRow)
            .where(
                DeviceRow.id == device_id,
                DeviceRow.status == DeviceStatus.APPROVED.value,
            )
            .values(status=DeviceStatus.USED.value, used_at=at)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def prune(self, before: datetime) -> int:
        result = await self._s.execute(
            delete(DeviceRow).where(DeviceRow.expires_at < before)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def used_since(
        self, user_id: str, since: datetime, *, client_id: str | None = None
    ) -> list[str]:
        # A code is redeemed before it expires: expires_at (indexed) narrows.
        query = select(DeviceRow.id).where(
            DeviceRow.expires_at >= since,
            DeviceRow.used_at >= since,
            DeviceRow.user_id == user_id,
        )
        if client_id is not None:
            query = query.where(DeviceRow.client_id == client_id)
        return list(await self._s.scalars(query))


def _consent(row: ConsentRow) -> Consent:
    return Consent(
        user_id=row.user_id,
        client_id=row.client_id,
        scope=row.scope,
        resource=row.resource,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class ConsentRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, user_id: str, client_id: str) -> Consent | None:
        row = await self._s.get(ConsentRow, (user_id, client_id))
        return _consent(row) if row else None

    async def save(self, consent: Consent) -> None:
        insert = (
            postgresql.insert
            if self._s.get_bind().dialect.name == "postgresql"
            else sqlite.insert
        )
        await self._s.execute(
            insert(ConsentRow)
            .values(
                user_id=consent.user_id,
                client_id=consent.client_id,
                scope=consent.scope,
                resource=consent.resource,
                created_at=consent.created_at,
                updated_at=consent.updated_at,
            )
            .on_conflict_do_update(
                index_elements=[ConsentRow.user_id, ConsentRow.client_id],
                set_={
                    "scope": consent.scope,
                    "resource": consent.resource,
                    "updated_at": consent.updated_at,
                },
            )
        )

    async def delete_for_client(self, client_id: str) -> int:
        result = await self._s.execute(
            delete(ConsentRow).where(ConsentRow.client_id == client_id)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def list_for_user(self, user_id: str) -> list[Consent]:
        rows = await self._s.scalars(
            select(ConsentRow)
            .where(ConsentRow.user_id == user_id)
            .order_by(ConsentRow.updated_at.desc())
        )
        return [_consent(row) for row in rows]

    async def delete(self, user_id: str, client_id: str) -> bool:
        result = await self._s.execute(
            delete(ConsentRow).where(
                ConsentRow.user_id == user_id, ConsentRow.client_id == client_id
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
