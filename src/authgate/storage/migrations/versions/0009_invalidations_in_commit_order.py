"""invalidations in commit order

The outbox's readers move by transactions, not by ids (a lower id can commit
after a higher one on PostgreSQL): each row records the transaction that wrote
it, stamped by the column's default so that every writer, an older release's
included, fills it. SQLite's ids already commit in order; there the table is
rebuilt with ``AUTOINCREMENT`` so that a prune of every row does not hand the
next rows ids below where the readers stand.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The writing transaction's id; xid8 has no cast to bigint but through text.
XACT_ID = sa.text("pg_current_xact_id()::text::bigint")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table(
        "invalidations",
        recreate="always" if sqlite else "auto",
        table_kwargs={"sqlite_autoincrement": True},
    ) as batch_op:
        batch_op.add_column(sa.Column("xact_id", sa.BigInteger(), nullable=True))
        batch_op.create_index("ix_invalidations_xact_id", ["xact_id"], unique=False)
    if not sqlite:
        # Set apart from adding the column, so that the rows already there
        # keep NULL rather than the id of this migration's transaction.
        op.alter_column("invalidations", "xact_id", server_default=XACT_ID)


def downgrade() -> None:
    # On SQLite dropping the column rebuilds the table, without AUTOINCREMENT.
    with op.batch_alter_table("invalidations", schema=None) as batch_op:
        batch_op.drop_index("ix_invalidations_xact_id")
        batch_op.drop_column("xact_id")
