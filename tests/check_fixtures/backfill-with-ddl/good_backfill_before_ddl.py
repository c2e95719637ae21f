"""DML before the DDL: the DDL lock is taken afterwards, just before commit."""

import sqlalchemy as sa
from alembic import op

revision = "backfill_with_ddl_good_backfill_before_ddl"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM users WHERE id = 7")
    op.add_column("users", sa.Column("role", sa.String(20), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "role")
