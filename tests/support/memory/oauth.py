"""What the authorization server stores: clients, authorization and device
codes, consents, and revoked access-token ids."""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from authgate.domain.assurance import Authentication
from authgate.domain.clients import Client
from authgate.domain.grants import (
    AuthorizationCode,
    Consent,
    DeviceCode,
    DeviceStatus,
)
from tests.support.memory.sessions import MemoryRefreshTokens


class MemoryClients:
    def __init__(
        self, consents: "MemoryConsents", refresh_tokens: MemoryRefreshTokens
    ) -> None:
        #: what keeps a dynamic client from being pruned
        self._consents = consents
        self._refresh_tokens = refresh_tokens
        self.rows: dict[str, Client] = {}

    async def add(self, client: Client) -> None:
        self.rows[client.id] = client

    async def get(self, client_id: str) -> Client | None:
        return self.rows.get(client_id)

    async def all(self) -> list[Client]:
        return sorted(self.rows.values(), key=lambda c: c.created_at, reverse=True)

    async def delete(self, client_id: str) -> bool:
        return self.rows.pop(client_id, None) is not None

    async def prune_abandoned(
        self, registered_before: datetime, limit: int
    ) -> list[str]:
        used = {k[1] for k in self._consents.rows} | {
            t.client_id
            for t in self._refresh_tokens.rows.values()
            if t.revoked_at is None
        }
        gone = [
            c.id
            for c in self.rows.values()
            if c.registration == "dynamic"
            and c.created_at < registered_before
            and c.id not in used
        ][:limit]
        for client_id in gone:
            del self.rows[client_id]
        return gone


class MemoryAuthorizationCodes:
    def __init__(self) -> None:
        self.rows: dict[str, AuthorizationCode] = {}
        self.hashes: dict[str, str] = {}  #: code hash → code id

    async def add(self, code: AuthorizationCode, code_hash: str) -> None:
        self.rows[code.id] = replace(code, used_at=None)
        self.hashes[code_hash] = code.id

    async def by_hash(self, code_hash: str) -> AuthorizationCode | None:
        code_id = self.hashes.get(code_hash)
        return self.rows.get(code_id) if code_id else None

    async def mark_used(self, code_id: str, at: datetime) -> bool:
        code = self.rows.get(code_id)
        if code is None or code.used_at is not None:
            return False
        self.rows[code_id] = replace(code, used_at=at)
        return True

    async def used_since(
        self, user_id: str, since: datetime, *, client_id: str | None = None
    ) -> list[str]:
        return [
            c.id
            for c in self.rows.values()
            if c.user_id == user_id
            and c.expires_at >= since
            and c.used_at is not None
            and c.used_at >= since
            and client_id in (None, c.client_id)
        ]

    async def prune(self, before: datetime) -> int:
        gone = [c.id for c in self.rows.values() if c.expires_at < before]
        for code_id in gone:
            del self.rows[code_id]
        return len(gone)


@dataclass(slots=True)
class _Device:
    device: DeviceCode
    user_code_hash: str
    used_at: datetime | None = None  #: a column the value does not carry


class MemoryDeviceCodes:
    def __init__(self) -> None:
        self.rows: dict[str, _Device] = {}
        self.hashes: dict[str, str] = {}  #: device code hash → device id

    async def add(
        self, device: DeviceCode, device_code_hash: str, user_code_hash: str
    ) -> None:
        stored = replace(
            device,
            user_id=None,
            last_polled_at=None,
            decided_at=None,
            authentication=None,
        )
        self.rows[device.id] = _Device(stored, user_code_hash)
        self.hashes[device_code_hash] = device.id

    async def by_device_code_hash(self, code_hash: str) -> DeviceCode | None:
        device_id = self.hashes.get(code_hash)
        row = self.rows.get(device_id) if device_id else None
        return row.device if row else None

    async def by_user_code_hash(self, code_hash: str) -> DeviceCode | None:
        found = [r.device for r in self.rows.values() if r.user_code_hash == code_hash]
        return max(found, key=lambda d: d.created_at, default=None)

    async def record_poll(self, device_id: str, at: datetime, interval: int) -> None:
        row = self.rows.get(device_id)
        if row is not None:
            row.device = replace(row.device, last_polled_at=at, interval=interval)

    async def decide(
        self,
        device_id: str,
        status: DeviceStatus,
        user_id: str,
        at: datetime,
        authentication: Authentication | None,
    ) -> bool:
        row = self.rows.get(device_id)
        if row is None or row.device.status is not DeviceStatus.PENDING:
            return False
        row.device = replace(
            row.device,
            status=status,
            user_id=user_id,
            decided_at=at,
            authentication=authentication,
        )
        return True

    async def mark_used(self, device_id: str, at: datetime) -> bool:
        row = self.rows.get(device_id)
        if row is None or row.device.status is not DeviceStatus.APPROVED:
            return False
        row.device = replace(row.device, status=DeviceStatus.USED)
        row.used_at = at
        return True

    async def used_since(
        self, user_id: str, since: datetime, *, client_id: str | None = None
    ) -> list[str]:
        return [
            r.device.id
            for r in self.rows.values()
            if r.device.user_id == user_id
            and r.device.expires_at >= since
            and r.used_at is not None
            and r.used_at >= since
            and client_id in (None, r.device.client_id)
        ]

    async def prune(self, before: datetime) -> int:
        gone = [i for i, r in self.rows.items() if r.device.expires_at < before]
        for device_id in gone:
            del self.rows[device_id]
        return len(gone)


class MemoryConsents:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], Consent] = {}

    async def get(self, user_id: str, client_id: str) -> Consent | None:
        return self.rows.get((user_id, client_id))

    async def save(self, consent: Consent) -> None:
        key = (consent.user_id, consent.client_id)
        before = self.rows.get(key)
        # The upsert keeps the first ``created_at``.
        self.rows[key] = (
            replace(consent, created_at=before.created_at) if before else consent
        )

    async def delete_for_client(self, client_id: str) -> int:
        gone = [k for k in self.rows if k[1] == client_id]
        for key in gone:
            del self.rows[key]
        return len(gone)

    async def list_for_user(self, user_id: str) -> list[Consent]:
        found = [c for c in self.rows.values() if c.user_id == user_id]
        return sorted(found, key=lambda c: c.updated_at, reverse=True)

    async def delete(self, user_id: str, client_id: str) -> bool:
        return self.rows.pop((user_id, client_id), None) is not None


class MemoryRevocations:
    def __init__(self) -> None:
        self.rows: dict[str, datetime] = {}  #: token id → revoked until

    async def add(self, token_id: str, until: datetime) -> None:
        self.rows[token_id] = max(until, self.rows.get(token_id, until))

    async def any_revoked(self, ids: Iterable[str], at: datetime) -> bool:
        return any(
            token_id in self.rows and self.rows[token_id] > at for token_id in ids
        )

    async def in_force(self, at: datetime) -> list[str]:
        return [token_id for token_id, until in self.rows.items() if until > at]

    async def prune(self, before: datetime) -> int:
        gone = [i for i, until in self.rows.items() if until < before]
        for token_id in gone:
            del self.rows[token_id]
        return len(gone)
