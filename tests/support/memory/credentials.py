"""Personal access tokens and API keys."""

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from authgate.domain.credentials import Credential, CredentialKind


class MemoryCredentials:
    def __init__(self) -> None:
        self.rows: dict[str, Credential] = {}
        self.hashes: dict[str, str] = {}  #: token hash → credential id

    async def add(self, credential: Credential, token_hash: str) -> None:
        # Stored as the repository stores it: use, revocation and notice
        # start unset.
        self.rows[credential.id] = replace(
            credential, last_used_at=None, revoked_at=None, expiry_noticed_at=None
        )
        self.hashes[token_hash] = credential.id

    async def get(self, credential_id: str) -> Credential | None:
        return self.rows.get(credential_id)

    async def by_hash(self, token_hash: str) -> Credential | None:
        credential_id = self.hashes.get(token_hash)
        return self.rows[credential_id] if credential_id else None

    async def list_for_user(
        self, user_id: str, kind: CredentialKind
    ) -> list[Credential]:
        found = [
            c
            for c in self.rows.values()
            if c.user_id == user_id and c.kind == kind and c.revoked_at is None
        ]
        return sorted(found, key=lambda c: c.created_at, reverse=True)

    async def revoke(self, credential_id: str, at: datetime) -> bool:
        credential = self.rows.get(credential_id)
        if credential is None or credential.revoked_at is not None:
            return False
        self.rows[credential_id] = replace(credential, revoked_at=at)
        return True

    async def revoke_all_for_user(self, user_id: str, at: datetime) -> list[str]:
        return await self._revoke_where(lambda c: c.user_id == user_id, at)

    async def revoke_all_for_org(self, org_id: str, at: datetime) -> list[str]:
        return await self._revoke_where(lambda c: c.org_id == org_id, at)

    async def _revoke_where(
        self, owned: Callable[[Credential], bool], at: datetime
    ) -> list[str]:
        ids = [c.id for c in self.rows.values() if owned(c) and c.revoked_at is None]
        for credential_id in ids:
            await self.revoke(credential_id, at)
        return ids

    async def mark_used(
        self, credential_id: str, at: datetime, *, unless_since: datetime
    ) -> bool:
        credential = self.rows.get(credential_id)
        if credential is None or (
            credential.last_used_at is not None
            and credential.last_used_at >= unless_since
        ):
            return False
        self.rows[credential_id] = replace(credential, last_used_at=at)
        return True

    async def expiring(
        self, after: datetime, before: datetime, limit: int
    ) -> list[Credential]:
        found = [
            c
            for c in self.rows.values()
            if c.kind == "pat"
            and c.revoked_at is None
            and c.expiry_noticed_at is None
            and c.expires_at is not None
            and after < c.expires_at <= before
        ]
        return sorted(found, key=lambda c: c.expires_at or after)[:limit]

    async def expiry_noticed(self, credential_id: str, at: datetime) -> bool:
        credential = self.rows.get(credential_id)
        if credential is None or credential.expiry_noticed_at is not None:
            return False
        self.rows[credential_id] = replace(credential, expiry_noticed_at=at)
        return True
