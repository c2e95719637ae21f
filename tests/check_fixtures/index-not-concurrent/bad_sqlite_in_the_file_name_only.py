"""Only the folder (or PRAGMA) marks a SQLite history; a file name mentioning sqlite does not."""

from alembic import op

revision = "index_not_concurrent_bad_sqlite_in_the_file_name_only"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_users_email", "users", ["email"])  # expect: index-not-concurrent


def downgrade() -> None:
    op.drop_index("ix_users_email", table_name="users")
