"""The authorization server's tables: clients, codes, consents, revoked tokens.

Client ids are not foreign keys elsewhere: a client identified by its metadata
document URL (the MCP Client ID Metadata Document) has no row, yet holds codes,
tokens and consents like any other.
"""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from authgate.storage.base import Base


class ClientRow(Base):
    __tablename__ = "oauth_clients"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    redirect_uris: Mapped[list[str]] = mapped_column(JSON)
    grant_types: Mapped[list[str]] = mapped_column(JSON)
    auth_method: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str | None] = mapped_column(String(1024))
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    registration: Mapped[str] = mapped_column(String(24))
    created_by: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    client_uri: Mapped[str | None] = mapped_column(String(2048))
    registered_from: Mapped[str | None] = mapped_column(String(64))
    #: OpenID Connect RP-Initiated Logout 1.0 (``None`` in rows made before)
    post_logout_redirect_uris: Mapped[list[str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime]


class AuthorizationCodeRow(Base):
    __tablename__ = "authorization_codes"
    __table_args__ = (Index("ix_authorization_codes_expires_at", "expires_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    redirect_uri: Mapped[str | None] = mapped_column(String(2048))
    code_challenge: Mapped[str] = mapped_column(String(128))
    scope: Mapped[str] = mapped_column(String(1024))
    resource: Mapped[str] = mapped_column(String(4096))
    nonce: Mapped[str | None] = mapped_column(String(512))
    #: the authentication the person approved with (ID and access tokens say it)
    auth_time: Mapped[datetime | None]
    amr: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class DeviceCodeRow(Base):
    __tablename__ = "device_codes"
    __table_args__ = (
        Index("ix_device_codes_user_code_hash", "user_code_hash"),
        Index("ix_device_codes_expires_at", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    device_code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_code_hash: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str] = mapped_column(String(255))
    scope: Mapped[str] = mapped_column(String(1024))
    resource: Mapped[str] = mapped_column(String(4096))
    interval: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    last_polled_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    #: the authentication the person approved with
    auth_time: Mapped[datetime | None]
    amr: Mapped[str | None] = mapped_column(String(64))
    used_at: Mapped[datetime | None]


class ConsentRow(Base):
    __tablename__ = "oauth_consents"
    __table_args__ = (Index("ix_oauth_consents_client_id", "client_id"),)

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    client_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    scope: Mapped[str] = mapped_column(String(1024))
    resource: Mapped[str] = mapped_column(String(4096))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class RevokedTokenRow(Base):
    """A ``jti``, grant id or client id whose access tokens are refused until
    ``until`` (when the last of them has expired anyway)."""

    __tablename__ = "revoked_tokens"
    __table_args__ = (Index("ix_revoked_tokens_until", "until"),)

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    until: Mapped[datetime]
