"""Expand step of a rename: add the new column; code writes both."""

import sqlalchemy as sa
from alembic import op

revision = "rename_column_good_add_new_column"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("full_name", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "full_name")
