from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from authgate.storage.base import Base


class SessionRow(Base):
    __tablename__ = "sessions"
    __table_args__ = (
        Index("ix_sessions_user_id", "user_id"),
        Index("ix_sessions_expires_at", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_active_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    device: Mapped[str] = mapped_column(String(64))
    #: when the person last proved who they are here (OIDC ``auth_time``): the
    #: sign-in, or a later step-up; ``created_at`` for sessions older than it
    authenticated_at: Mapped[datetime | None]
    #: how (RFC 8176 ``amr`` values, space-separated)
    amr: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(32))


class RefreshTokenRow(Base):
    __tablename__ = "refresh_tokens"
    __table_args__ = (
        Index("ix_refresh_tokens_family_id", "family_id"),
        Index("ix_refresh_tokens_session_id", "session_id"),
        Index("ix_refresh_tokens_user_id", "user_id"),
        Index("ix_refresh_tokens_family_created_at", "family_created_at"),
        Index("ix_refresh_tokens_client_id", "client_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    session_id: Mapped[str | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE")
    )
    client_id: Mapped[str | None] = mapped_column(String(255))
    scope: Mapped[str] = mapped_column(String(1024), default="")
    audience: Mapped[str | None] = mapped_column(String(1024))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    family_created_at: Mapped[datetime]
    #: the authentication the grant began with, carried to every token it issues
    auth_time: Mapped[datetime | None]
    amr: Mapped[str | None] = mapped_column(String(64))
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
