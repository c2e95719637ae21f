"""Renames a table and keeps the old name working as a view."""

from alembic import op

revision = "rename_table_good_rename_with_view"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.rename_table("user", "users")
    op.execute('CREATE VIEW "user" AS SELECT * FROM users')


def downgrade() -> None:
    op.execute('DROP VIEW "user"')
    op.rename_table("users", "user")
