"""A plain REINDEX blocks writes while it rebuilds."""

import sqlalchemy as sa
from alembic import op

revision = "index_not_concurrent_bad_reindex"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("nickname", sa.Text(), nullable=True))
    op.execute("REINDEX TABLE users")  # expect: index-not-concurrent
    op.execute("REINDEX (VERBOSE) INDEX ix_orders_user_id")  # expect: index-not-concurrent


def downgrade() -> None:
    op.drop_column("users", "nickname")
