from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from authgate.storage.base import Base


class AuditRow(Base):
    """Append-only: the application inserts here, and deletes only what
    ``AUTHGATE_AUDIT_RETENTION`` has let go (``domain.housekeeping``)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_at", "at"),
        Index("ix_audit_events_actor_id", "actor_id"),
        Index("ix_audit_events_target_id", "target_id"),
        Index("ix_audit_events_org_id", "org_id"),
    )

    # BIGINT on PostgreSQL; INTEGER on SQLite, where only an INTEGER PRIMARY KEY
    # autoincrements.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    )
    action: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    actor_id: Mapped[str | None] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(255))
    org_id: Mapped[str | None] = mapped_column(String(32))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
