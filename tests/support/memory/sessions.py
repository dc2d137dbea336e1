"""Sessions and the refresh tokens that continue them."""

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from authgate.domain.refresh_families import RefreshToken
from authgate.domain.sessions import Session


class MemorySessions:
    def __init__(self, refresh_tokens: "MemoryRefreshTokens") -> None:
        #: its tokens go with a deleted session, as ON DELETE CASCADE does
        self._refresh_tokens = refresh_tokens
        self.rows: dict[str, Session] = {}
        self.hashes: dict[str, str] = {}  #: token hash → session id
        self.reasons: dict[str, str] = {}  #: session id → why it was revoked

    async def add(self, session: Session, token_hash: str) -> None:
        self.rows[session.id] = session
        self.hashes[token_hash] = session.id

    async def get(self, session_id: str) -> Session | None:
        return self.rows.get(session_id)

    async def by_token_hash(self, token_hash: str) -> Session | None:
        session_id = self.hashes.get(token_hash)
        return self.rows[session_id] if session_id else None

    async def list_for_user(self, user_id: str) -> list[Session]:
        found = [
            s
            for s in self.rows.values()
            if s.user_id == user_id and s.revoked_at is None
        ]
        return sorted(found, key=lambda s: s.last_active_at, reverse=True)

    async def history(self, user_id: str, limit: int) -> list[Session]:
        found = [s for s in self.rows.values() if s.user_id == user_id]
        return sorted(found, key=lambda s: s.created_at, reverse=True)[:limit]

    async def touch(self, session_id: str, at: datetime) -> None:
        session = self.rows.get(session_id)
        if session is not None:
            self.rows[session_id] = replace(session, last_active_at=at)

    async def reauthenticate(
        self, session_id: str, at: datetime, amr: tuple[str, ...]
    ) -> None:
        session = self.rows.get(session_id)
        if session is not None:
            self.rows[session_id] = replace(session, authenticated_at=at, amr=amr)

    async def revoke(self, session_id: str, at: datetime, reason: str) -> bool:
        session = self.rows.get(session_id)
        if session is None or session.revoked_at is not None:
            return False
        self.rows[session_id] = replace(session, revoked_at=at)
        self.reasons[session_id] = reason
        return True

    async def revoke_all_for_user(
        self, user_id: str, at: datetime, reason: str, *, keep: str | None = None
    ) -> list[str]:
        ids = [
            s.id
            for s in self.rows.values()
            if s.user_id == user_id and s.revoked_at is None and s.id != keep
        ]
        for session_id in ids:
            await self.revoke(session_id, at, reason)
        return ids

    async def prune(self, before: datetime, limit: int) -> int:
        gone = [s.id for s in self.rows.values() if s.expires_at < before][:limit]
        for session_id in gone:
            del self.rows[session_id]
            self.reasons.pop(session_id, None)
        self.hashes = {h: i for h, i in self.hashes.items() if i not in gone}
        self._refresh_tokens.forget(lambda t: t.session_id in gone)
        return len(gone)


class MemoryRefreshTokens:
    def __init__(self) -> None:
        self.rows: dict[str, RefreshToken] = {}
        self.hashes: dict[str, str] = {}  #: token hash → token id

    async def add(self, token: RefreshToken, token_hash: str) -> None:
        self.rows[token.id] = token
        self.hashes[token_hash] = token.id

    async def by_hash(self, token_hash: str) -> RefreshToken | None:
        token_id = self.hashes.get(token_hash)
        return self.rows[token_id] if token_id else None

    async def mark_used(self, token_id: str, at: datetime) -> bool:
        token = self.rows.get(token_id)
        # A revoked token is no more usable than a used one, as in SQL.
        if token is None or token.used_at is not None or token.revoked_at is not None:
            return False
        self.rows[token_id] = replace(token, used_at=at)
        return True

    def _revoke(self, families: list[str], at: datetime) -> int:
        live = [
            t
            for t in self.rows.values()
            if t.family_id in families and t.revoked_at is None
        ]
        for token in live:
            self.rows[token.id] = replace(token, revoked_at=at)
        return len(live)

    async def revoke_family(self, family_id: str, at: datetime) -> int:
        return self._revoke([family_id], at)

    async def revoke_for_client(self, client_id: str, at: datetime) -> list[str]:
        live = [
            t
            for t in self.rows.values()
            if t.client_id == client_id and t.revoked_at is None
        ]
        for token in live:
            self.rows[token.id] = replace(token, revoked_at=at)
        return list(dict.fromkeys(t.family_id for t in live))

    async def revoke_for_user(
        self,
        user_id: str,
        at: datetime,
        *,
        client_id: str | None = None,
        keep_session: str | None = None,
    ) -> list[str]:
        hit = [
            t
            for t in self.rows.values()
            if t.user_id == user_id
            and t.revoked_at is None
            and (client_id is None or t.client_id == client_id)
            and (keep_session is None or t.session_id != keep_session)
        ]
        self._revoke(list(dict.fromkeys(t.family_id for t in hit)), at)
        return list(dict.fromkeys(t.family_id for t in hit if t.client_id is not None))

    async def live_heads(self, user_id: str, at: datetime) -> list[RefreshToken]:
        heads = [
            t
            for t in self.rows.values()
            if t.user_id == user_id
            and t.client_id is not None
            and t.used_at is None
            and t.revoked_at is None
            and t.expires_at > at
        ]
        return sorted(heads, key=lambda t: t.created_at, reverse=True)

    async def prune(self, family_started_before: datetime, limit: int) -> int:
        old = [
            t for t in self.rows.values() if t.family_created_at < family_started_before
        ]
        gone = {t.id for t in old[:limit]}
        self.forget(lambda t: t.id in gone)
        return len(gone)

    def forget(self, which: Callable[[RefreshToken], bool]) -> None:
        self.rows = {i: t for i, t in self.rows.items() if not which(t)}
        self.hashes = {h: i for h, i in self.hashes.items() if i in self.rows}
