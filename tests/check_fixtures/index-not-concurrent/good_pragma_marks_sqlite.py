"""PRAGMA exists only on SQLite: the revision is SQLite's, whatever its folder."""

from alembic import op

revision = "index_not_concurrent_good_pragma_marks_sqlite"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("PRAGMA foreign_keys=OFF")
    op.create_index("ix_users_email", "users", ["email"])
    op.execute("PRAGMA foreign_keys=ON")


def downgrade() -> None:
    op.drop_index("ix_users_email", table_name="users")
