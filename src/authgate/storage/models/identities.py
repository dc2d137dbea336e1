from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from authgate.storage.base import Base


class ExternalIdentityRow(Base):
    """An upstream provider's subject linked to a user."""

    __tablename__ = "external_identities"

    provider: Mapped[str] = mapped_column(String(32), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime]


class ExternalOrgRow(Base):
    """An upstream provider's organization linked to an org."""

    __tablename__ = "external_orgs"

    provider: Mapped[str] = mapped_column(String(32), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    org_id: Mapped[str] = mapped_column(
        ForeignKey("orgs.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]
