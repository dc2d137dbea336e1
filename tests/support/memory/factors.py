"""Second factors: authenticator apps and recovery codes."""

from dataclasses import replace
from datetime import datetime

from authgate.domain.recovery_codes import RecoveryCode
from authgate.domain.totp import TotpFactor


class MemoryTotp:
    def __init__(self) -> None:
        self.rows: dict[str, TotpFactor] = {}  #: by user id

    async def get(self, user_id: str) -> TotpFactor | None:
        return self.rows.get(user_id)

    async def sealed_secrets(self) -> list[tuple[str, bytes]]:
        return [(user_id, row.sealed_secret) for user_id, row in self.rows.items()]

    async def replace_sealed(self, user_id: str, sealed_secret: bytes) -> None:
        self.rows[user_id] = replace(self.rows[user_id], sealed_secret=sealed_secret)

    async def put_unconfirmed(self, factor: TotpFactor) -> bool:
        found = self.rows.get(factor.user_id)
        if found is not None and found.confirmed:
            return False
        self.rows[factor.user_id] = replace(factor, confirmed_at=None, last_step=None)
        return True

    async def confirm(self, user_id: str, at: datetime, step: int) -> bool:
        found = self.rows.get(user_id)
        if found is None or found.confirmed:
            return False
        self.rows[user_id] = replace(found, confirmed_at=at, last_step=step)
        return True

    async def use_step(self, user_id: str, step: int) -> bool:
        found = self.rows.get(user_id)
        if found is None or not found.confirmed:
            return False
        if found.last_step is not None and step <= found.last_step:
            return False
        self.rows[user_id] = replace(found, last_step=step)
        return True

    async def delete(self, user_id: str) -> bool:
        return self.rows.pop(user_id, None) is not None


class MemoryRecoveryCodes:
    def __init__(self) -> None:
        self.rows: dict[str, RecoveryCode] = {}  #: by code hash (unique)

    async def replace(self, user_id: str, codes: list[RecoveryCode]) -> None:
        await self.delete_all(user_id)
        for code in codes:
            self.rows[code.code_hash] = code

    async def use(self, user_id: str, code_hash: str, at: datetime) -> bool:
        found = self.rows.get(code_hash)
        if found is None or found.user_id != user_id or found.used_at is not None:
            return False
        self.rows[code_hash] = replace(found, used_at=at)
        return True

    async def remaining(self, user_id: str) -> int:
        return sum(
            1 for c in self.rows.values() if c.user_id == user_id and c.used_at is None
        )

    async def delete_all(self, user_id: str) -> int:
        gone = [h for h, c in self.rows.items() if c.user_id == user_id]
        for code_hash in gone:
            del self.rows[code_hash]
        return len(gone)
