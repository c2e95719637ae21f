"""A PRAGMA that only runs on SQLite does not make the revision SQLite's."""

from alembic import op

revision = "index_not_concurrent_bad_pragma_behind_a_sqlite_guard"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("PRAGMA foreign_keys=OFF")
    op.create_index("ix_orders_user_id", "orders", ["user_id"])  # expect: index-not-concurrent


def downgrade() -> None:
    op.drop_index("ix_orders_user_id", table_name="orders")
