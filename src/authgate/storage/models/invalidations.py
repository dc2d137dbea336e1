from datetime import datetime

from sqlalchemy import JSON, BigInteger, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from authgate.storage.base import Base


class InvalidationRow(Base):
    """The revocation outbox: ids whose cached verifications every instance
    must drop, written in the transaction of the change that revoked them."""

    __tablename__ = "invalidations"
    __table_args__ = (Index("ix_invalidations_at", "at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    )
    tags: Mapped[list[str]] = mapped_column(JSON)
    at: Mapped[datetime]
