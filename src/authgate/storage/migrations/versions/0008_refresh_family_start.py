"""refresh family start

Each refresh token carries when its family began, so rotation can cap the
family's life (``AUTHGATE_REFRESH_TOKEN_MAX_LIFETIME``). Existing tokens take
the creation time of their family's oldest token still stored. Tokens are
also found by user now (ending every login of a person, listing them).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 03:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import authgate.storage.base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "family_created_at",
                authgate.storage.base.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
    op.execute(
        "UPDATE refresh_tokens SET family_created_at = ("
        "SELECT MIN(oldest.created_at) FROM refresh_tokens AS oldest "
        "WHERE oldest.family_id = refresh_tokens.family_id)"
    )
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.alter_column(
            "family_created_at",
            existing_type=authgate.storage.base.UTCDateTime(timezone=True),
            nullable=False,
        )
        batch_op.create_index("ix_refresh_tokens_user_id", ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_refresh_tokens_user_id")
        batch_op.drop_column("family_created_at")
