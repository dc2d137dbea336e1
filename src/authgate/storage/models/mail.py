from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from authgate.storage.base import Base


class MailRow(Base):
    """Mail queued by a change, in its transaction (``domain.mail``)."""

    __tablename__ = "mail_queue"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    template: Mapped[str] = mapped_column(String(64))
    #: recipient and values, sealed; NULL once sent or given up
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary())
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))


class EmailTokenRow(Base):
    """Single-use links mailed to an address (verify it, reset a password),
    kept as digests."""

    __tablename__ = "email_tokens"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]
