from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.domain import assurance
from authgate.domain.sessions import Session
from authgate.storage import prefetched
from authgate.storage.base import table
from authgate.storage.models.sessions import SessionRow


def session_value(row: SessionRow | Row[Any]) -> Session:
    return Session(
        id=row.id,
        user_id=row.user_id,
        created_at=row.created_at,
        last_active_at=row.last_active_at,
        expires_at=row.expires_at,
        ip=row.ip,
        user_agent=row.user_agent,
        device=row.device,
        revoked_at=row.revoked_at,
        authenticated_at=row.authenticated_at,
        amr=assurance.parse(row.amr),
    )


_SESSIONS = table(SessionRow)
_INSERT = insert(_SESSIONS)
#: Core, built once: every first-party refresh reads its session
_BY_ID = select(_SESSIONS).where(_SESSIONS.c.id == bindparam("id"))
#: and every session cookie's first request (then once a minute) by its digest
_BY_TOKEN_HASH = select(_SESSIONS).where(
    _SESSIONS.c.token_hash == bindparam("token_hash")
)


class SessionRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, session: Session, token_hash: str) -> None:
        # A Core insert: every sign-in runs it, and it is written at once,
        # before the refresh token that references it.
        await self._s.execute(
            _INSERT,
            {
                "id": session.id,
                "user_id": session.user_id,
                "token_hash": token_hash,
                "created_at": session.created_at,
                "last_active_at": session.last_active_at,
                "expires_at": session.expires_at,
                "ip": session.ip,
                "user_agent": session.user_agent,
                "device": session.device,
                "authenticated_at": session.authenticated_at,
                "amr": " ".join(session.amr),
            },
        )

    async def get(self, session_id: str) -> Session | None:
        kept = prefetched.take(self._s, Session, session_id)
        if kept is not None:
            return kept
        row = (await self._s.execute(_BY_ID, {"id": session_id})).first()
        return session_value(row) if row else None

    async def by_token_hash(self, token_hash: str) -> Session | None:
        row = (
            await self._s.execute(_BY_TOKEN_HASH, {"token_hash": token_hash})
        ).first()
        return session_value(row) if row else None

    async def list_for_user(self, user_id: str) -> list[Session]:
        rows = await self._s.scalars(
            select(SessionRow)
            .where(SessionRow.user_id == user_id, SessionRow.revoked_at.is_(None))
            .order_by(SessionRow.last_active_at.desc())
        )
        return [session_value(r) for r in rows]

    async def history(self, user_id: str, limit: int) -> list[Session]:
        rows = await self._s.scalars(
            select(SessionRow)
            .where(SessionRow.user_id == user_id)
            .order_by(SessionRow.created_at.desc())
            .limit(limit)
        )
        return [session_value(r) for r in rows]

    async def touch(self, session_id: str, at: datetime) -> None:
        await self._s.execute(
            update(SessionRow)
            .where(SessionRow.id == session_id)
            .values(last_active_at=at)
        )

    async def reauthenticate(
        self, session_id: str, at: datetime, amr: tuple[str, ...]
    ) -> None:
        await self._s.execute(
            update(SessionRow)
            .where(SessionRow.id == session_id)
            .values(authenticated_at=at, amr=" ".join(amr))
        )

    async def revoke(self, session_id: str, at: datetime, reason: str) -> bool:
        result = await self._s.execute(
            update(SessionRow)
            .where(SessionRow.id == session_id, SessionRow.revoked_at.is_(None))
            .values(revoked_at=at, revoked_reason=reason)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def revoke_all_for_user(
        self, user_id: str, at: datetime, reason: str, *, keep: str | None = None
    ) -> list[str]:
        ids = [
            i
            for i in await self._s.scalars(
                select(SessionRow.id).where(
                    SessionRow.user_id == user_id, SessionRow.revoked_at.is_(None)
                )
            )
            if i != keep
        ]
        if ids:
            await self._s.execute(
                update(SessionRow)
                .where(SessionRow.id.in_(ids), SessionRow.revoked_at.is_(None))
                .values(revoked_at=at, revoked_reason=reason)
            )
        return ids

    async def prune(self, before: datetime, limit: int) -> int:
        # Their refresh tokens go too: ON DELETE CASCADE.
        batch = select(SessionRow.id).where(SessionRow.expires_at < before).limit(limit)
        result = await self._s.execute(
            delete(SessionRow).where(SessionRow.id.in_(batch))
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
