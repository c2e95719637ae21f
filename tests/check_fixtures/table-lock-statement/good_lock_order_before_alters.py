"""LOCK TABLE in the mode the ALTERs after it take anyway only fixes the lock order."""

import sqlalchemy as sa
from alembic import op

revision = "table_lock_statement_good_lock_order_before_alters"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '1s'")
    op.execute("LOCK TABLE users, projects IN ACCESS EXCLUSIVE MODE")  # parent, then child
    op.add_column("users", sa.Column("nickname", sa.Text(), nullable=True))
    op.execute("ALTER TABLE projects RENAME COLUMN name TO title")


def downgrade() -> None:
    op.execute("LOCK TABLE users, projects IN ACCESS EXCLUSIVE MODE")
    op.execute("ALTER TABLE projects RENAME COLUMN title TO name")
    op.drop_column("users", "nickname")
