"""second factors

TOTP authenticators, passkeys and recovery codes; how each session, authorization
code, device code and refresh family was authenticated (``auth_time``, ``amr``);
an organization's rule that its members use a second factor; and where a
client may send the browser after signing out (OpenID Connect RP-Initiated
Logout 1.0).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 18:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import authgate.storage.base

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = authgate.storage.base.UTCDateTime(timezone=True)


def _user() -> sa.ForeignKey:
    return sa.ForeignKey("users.id", ondelete="CASCADE")


#: tables that record how a person authenticated, and the name of its time column
_AUTHENTICATED = {
    "sessions": "authenticated_at",
    "authorization_codes": "auth_time",
    "device_codes": "auth_time",
    "refresh_tokens": "auth_time",
}


def upgrade() -> None:
    op.create_table(
        "totp_factors",
        sa.Column("user_id", sa.String(32), _user(), primary_key=True),
        sa.Column("secret", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("confirmed_at", _TIME, nullable=True),
        sa.Column("last_step", sa.BigInteger(), nullable=True),
    )
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user_id", sa.String(32), _user(), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("used_at", _TIME, nullable=True),
    )
    op.create_index("ix_recovery_codes_user_id", "recovery_codes", ["user_id"])
    op.create_table(
        "passkeys",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user_id", sa.String(32), _user(), nullable=False),
        sa.Column("credential_id", sa.String(1400), nullable=False, unique=True),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("transports", sa.String(255), nullable=False),
        sa.Column("aaguid", sa.String(36), nullable=False),
        sa.Column("backed_up", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("last_used_at", _TIME, nullable=True),
    )
    op.create_index("ix_passkeys_user_id", "passkeys", ["user_id"])
    for table, time_column in _AUTHENTICATED.items():
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column(time_column, _TIME, nullable=True))
            batch_op.add_column(sa.Column("amr", sa.String(64), nullable=True))
    with op.batch_alter_table("orgs") as batch_op:
        batch_op.add_column(
            sa.Column(
                "require_mfa", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    with op.batch_alter_table("oauth_clients") as batch_op:
        batch_op.add_column(
            sa.Column("post_logout_redirect_uris", sa.JSON(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("oauth_clients") as batch_op:
        batch_op.drop_column("post_logout_redirect_uris")
    with op.batch_alter_table("orgs") as batch_op:
        batch_op.drop_column("require_mfa")
    for table, time_column in _AUTHENTICATED.items():
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("amr")
            batch_op.drop_column(time_column)
    op.drop_index("ix_passkeys_user_id", table_name="passkeys")
    op.drop_table("passkeys")
    op.drop_index("ix_recovery_codes_user_id", table_name="recovery_codes")
    op.drop_table("recovery_codes")
    op.drop_table("totp_factors")
