"""Raw CREATE INDEX without CONCURRENTLY."""

from alembic import op

revision = "index_not_concurrent_bad_raw_sql"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX ix_users_email ON users (email)")  # expect: index-not-concurrent


def downgrade() -> None:
    op.execute("DROP INDEX ix_users_email")
