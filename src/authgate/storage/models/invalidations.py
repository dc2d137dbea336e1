from datetime import datetime

from sqlalchemy import JSON, BigInteger, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from authgate.storage.base import Base


class InvalidationRow(Base):
    """The revocation outbox: ids whose cached verifications every instance
    must drop, written in the transaction of the change that revoked them.

    Readers must be handed every row (``repos.invalidations``), so SQLite is
    told never to reuse the id of a deleted row (``AUTOINCREMENT``): after a
    prune of every row it would otherwise count from 1 again, below where its
    readers stand."""

    __tablename__ = "invalidations"
    __table_args__ = (
        Index("ix_invalidations_at", "at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    )
    tags: Mapped[list[str]] = mapped_column(JSON)
    at: Mapped[datetime]
    #: PostgreSQL: the writing transaction's id (``pg_current_xact_id()``),
    #: stamped by the column's default, which migration 0009 sets there alone
    #: (the function is PostgreSQL's), so no writer, an older release's
    #: included, can leave it out. Always NULL on SQLite, whose ids already
    #: commit in order.
    xact_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
