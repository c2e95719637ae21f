"""Drops a column that running code may still read."""

import sqlalchemy as sa
from alembic import op

revision = "drop_column_bad_drop_column"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_column("users", "nickname")  # expect: drop-column


def downgrade() -> None:
    op.add_column("users", sa.Column("nickname", sa.Text(), nullable=True))
