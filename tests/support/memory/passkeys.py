"""Passkeys."""

from dataclasses import replace
from datetime import datetime

from authgate.domain.passkeys import Passkey
from authgate.errors import Conflict


class MemoryPasskeys:
    def __init__(self) -> None:
        self.rows: dict[str, Passkey] = {}  #: id → passkey

    async def add(self, passkey: Passkey) -> None:
        if await self.by_credential_id(passkey.credential_id) is not None:
            raise Conflict("That passkey is registered already.")
        self.rows[passkey.id] = passkey

    async def for_user(self, user_id: str) -> list[Passkey]:
        found = [p for p in self.rows.values() if p.user_id == user_id]
        return sorted(found, key=lambda p: (p.created_at, p.id))

    async def by_credential_id(self, credential_id: str) -> Passkey | None:
        return next(
            (p for p in self.rows.values() if p.credential_id == credential_id), None
        )

    async def rename(self, user_id: str, passkey_id: str, name: str) -> bool:
        found = self.rows.get(passkey_id)
        if found is None or found.user_id != user_id:
            return False
        self.rows[passkey_id] = replace(found, name=name)
        return True

    async def remove(self, user_id: str, passkey_id: str) -> bool:
        found = self.rows.get(passkey_id)
        if found is None or found.user_id != user_id:
            return False
        del self.rows[passkey_id]
        return True

    async def used(
        self, passkey_id: str, sign_count: int, backed_up: bool, at: datetime
    ) -> None:
        found = self.rows.get(passkey_id)
        if found is not None:
            self.rows[passkey_id] = replace(
                found, sign_count=sign_count, backed_up=backed_up, last_used_at=at
            )
