"""notices

When the owner of a personal access token was told it expires soon
(``domain.notices``), so each is told of once, and an index on expiry that
finds the tokens due a notice.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 22:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import authgate.storage.base

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = authgate.storage.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("credentials") as batch:
        batch.add_column(sa.Column("expiry_noticed_at", _TIME, nullable=True))
    op.create_index("ix_credentials_expires_at", "credentials", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_credentials_expires_at", table_name="credentials")
    with op.batch_alter_table("credentials") as batch:
        batch.drop_column("expiry_noticed_at")
