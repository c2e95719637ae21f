"""Drops an index with a plain DROP INDEX."""

from alembic import op

revision = "drop_index_not_concurrent_bad_drop_index"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_users_email", table_name="users")  # expect: drop-index-not-concurrent


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.create_index("ix_users_email", "users", ["email"], postgresql_concurrently=True)
