"""housekeeping indexes

The periodic prune finds its rows by the columns it compares: a session's
absolute expiry, a refresh family's start, and the refresh tokens that keep a
dynamically registered client alive. Without these each batch scans its table.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 19:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = {
    "ix_sessions_expires_at": ("sessions", "expires_at"),
    "ix_refresh_tokens_family_created_at": ("refresh_tokens", "family_created_at"),
    "ix_refresh_tokens_client_id": ("refresh_tokens", "client_id"),
}


def upgrade() -> None:
    for name, (table, column) in _INDEXES.items():
        op.create_index(name, table, [column])


def downgrade() -> None:
    for name, (table, _) in _INDEXES.items():
        op.drop_index(name, table_name=table)
