from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from authgate.storage.base import Base


class UsedValueRow(Base):
    """Digests of single-use values already used (``domain.replay``)."""

    __tablename__ = "used_values"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
