"""A revision in a versions/sqlite folder never runs on PostgreSQL: no lock rules."""

import sqlalchemy as sa
from alembic import op

revision = "index_not_concurrent_good_sqlite_only_history"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_users_email", "users", ["email"])
    op.alter_column("users", "name", existing_type=sa.String(50), nullable=False)
    op.execute("UPDATE users SET role = 'member'")


def downgrade() -> None:
    op.drop_index("ix_users_email", table_name="users")
