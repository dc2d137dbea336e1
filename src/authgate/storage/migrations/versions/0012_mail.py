"""mail

The queue of mail a change sends (in the change's transaction), the
single-use links mailed to an address (verification, password reset), and
whether each person's address is verified, with a new address waiting for
its own verification.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 21:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import authgate.storage.base

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = authgate.storage.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "mail_queue",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("template", sa.String(64), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("next_attempt_at", _TIME, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", _TIME, nullable=True),
        sa.Column("failed_at", _TIME, nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
    )
    op.create_index("ix_mail_queue_next_attempt_at", "mail_queue", ["next_attempt_at"])
    op.create_table(
        "email_tokens",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column(
            "user_id",
            sa.String(32),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.Column("used_at", _TIME, nullable=True),
    )
    op.create_index("ix_email_tokens_user_id", "email_tokens", ["user_id"])
    op.create_index("ix_email_tokens_expires_at", "email_tokens", ["expires_at"])
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("email_verified_at", _TIME, nullable=True))
        batch.add_column(sa.Column("new_email", sa.String(320), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("new_email")
        batch.drop_column("email_verified_at")
    op.drop_table("email_tokens")
    op.drop_table("mail_queue")
