"""Signing keys and single-use values: the instance's own secrets."""

from dataclasses import replace
from datetime import datetime

from authgate.domain.signing_keys import SigningKey


class MemorySigningKeys:
    def __init__(self) -> None:
        self.rows: dict[str, SigningKey] = {}

    async def add(self, key: SigningKey) -> None:
        self.rows[key.kid] = key

    async def all(self) -> list[SigningKey]:
        return sorted(self.rows.values(), key=lambda k: k.created_at, reverse=True)

    async def replace_sealed(self, kid: str, private_encrypted: bytes) -> None:
        self.rows[kid] = replace(self.rows[kid], private_encrypted=private_encrypted)

    async def retire_active(self, alg: str, at: datetime) -> list[str]:
        kids = [
            k.kid for k in self.rows.values() if k.alg == alg and k.retired_at is None
        ]
        for kid in kids:
            self.rows[kid] = replace(self.rows[kid], retired_at=at)
        return kids
