from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from authgate.storage.base import Base


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    #: when ``email`` was proved to be theirs (a link mailed to it); NULL: not
    email_verified_at: Mapped[datetime | None]
    #: an address asked for and not verified yet: ``email`` stays until it is
    new_email: Mapped[str | None] = mapped_column(String(320))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    disabled_at: Mapped[datetime | None]
    # No foreign key: orgs reference users' memberships, and a dangling default
    # (org deleted) is cleared when read.
    default_org_id: Mapped[str | None] = mapped_column(String(32))


class LoginFailureRow(Base):
    """Failed sign-ins per normalised username, including names with no account."""

    __tablename__ = "login_failures"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]
