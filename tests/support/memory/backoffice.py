"""The back office's read model, counted from the other stores' rows."""

from authgate.domain.backoffice import OrgSummary, UserSummary
from authgate.domain.credentials import CredentialKind
from tests.support.memory.accounts import MemoryUsers
from tests.support.memory.credentials import MemoryCredentials
from tests.support.memory.orgs import MemoryOrgs
from tests.support.memory.sessions import MemorySessions


class MemoryBackOffice:
    def __init__(
        self,
        users: MemoryUsers,
        sessions: MemorySessions,
        credentials: MemoryCredentials,
        orgs: MemoryOrgs,
    ) -> None:
        self._users = users
        self._sessions = sessions
        self._credentials = credentials
        self._orgs = orgs

    def _sessions_of(self, user_id: str | None) -> int:
        return sum(
            1
            for s in self._sessions.rows.values()
            if user_id in (None, s.user_id) and s.revoked_at is None
        )

    def _held(
        self,
        kind: CredentialKind,
        *,
        user_id: str | None = None,
        org_id: str | None = None,
    ) -> int:
        return sum(
            1
            for c in self._credentials.rows.values()
            if c.kind == kind
            and c.revoked_at is None
            and user_id in (None, c.user_id)
            and org_id in (None, c.org_id)
        )

    async def users(self, limit: int, after_id: str | None) -> list[UserSummary]:
        found = sorted(
            (u for u in self._users.rows.values() if not after_id or u.id > after_id),
            key=lambda u: u.id,
        )[:limit]
        return [
            UserSummary(
                user=u,
                sessions=self._sessions_of(u.id),
                access_tokens=self._held("pat", user_id=u.id),
                api_keys=self._held("key", user_id=u.id),
            )
            for u in found
        ]

    async def orgs(self, limit: int, after_id: str | None) -> list[OrgSummary]:
        found = sorted(
            (o for o in self._orgs.rows.values() if not after_id or o.id > after_id),
            key=lambda o: o.id,
        )[:limit]
        return [
            OrgSummary(
                org=o,
                members=len(await self._orgs.member_ids(o.id)),
                api_keys=self._held("key", org_id=o.id),
            )
            for o in found
        ]

    async def stats(self) -> dict[str, int]:
        users = self._users.rows.values()
        return {
            "users": len(users),
            "orgs": len(self._orgs.rows),
            "disabled_users": sum(1 for u in users if not u.active),
            "active_sessions": self._sessions_of(None),
            "access_tokens": self._held("pat"),
            "api_keys": self._held("key"),
        }
