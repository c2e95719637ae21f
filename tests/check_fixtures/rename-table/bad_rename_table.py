"""Renames a table under running code."""

from alembic import op

revision = "rename_table_bad_rename_table"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.rename_table("user", "users")  # expect: rename-table


def downgrade() -> None:
    op.rename_table("users", "user")
