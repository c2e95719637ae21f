"""Renames a column under running code."""

import sqlalchemy as sa
from alembic import op

revision = "rename_column_bad_rename_column"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column(  # expect: rename-column
        "users", "name", new_column_name="full_name", existing_type=sa.Text()
    )


def downgrade() -> None:
    op.alter_column("users", "full_name", new_column_name="name", existing_type=sa.Text())
