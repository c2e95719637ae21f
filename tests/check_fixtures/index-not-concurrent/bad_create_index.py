"""Builds an index while writes to the table wait."""

from alembic import op

revision = "index_not_concurrent_bad_create_index"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_users_email", "users", ["email"])  # expect: index-not-concurrent


def downgrade() -> None:
    op.drop_index("ix_users_email", table_name="users")
