"""Drops a table that running code may still read."""

import sqlalchemy as sa
from alembic import op

revision = "drop_table_bad_drop_table"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("legacy_sessions")  # expect: drop-table


def downgrade() -> None:
    op.create_table(
        "legacy_sessions",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("token", sa.Text(), nullable=False),
    )
