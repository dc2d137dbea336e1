from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from authgate.storage.base import Base


class CredentialRow(Base):
    """Personal access tokens (``kind='pat'``) and API keys (``kind='key'``)."""

    __tablename__ = "credentials"
    __table_args__ = (
        Index("ix_credentials_user_id_kind", "user_id", "kind"),
        Index("ix_credentials_org_id", "org_id"),
        Index("ix_credentials_expires_at", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    org_id: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    display_prefix: Mapped[str] = mapped_column(String(32))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    #: when the owner was told a personal access token expires soon
    expiry_noticed_at: Mapped[datetime | None]


class RecoveryKeyRow(Base):
    """At most one per user: issuing a new key replaces the row."""

    __tablename__ = "recovery_keys"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
