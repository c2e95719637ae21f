"""LOCK TABLE holds its lock until the migration commits."""

from alembic import op

revision = "table_lock_statement_bad_lock_table"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("LOCK TABLE users")  # expect: table-lock-statement
    op.execute("LOCK orders, order_items IN SHARE MODE")  # expect: table-lock-statement
    op.execute("UPDATE users SET name = lower(name) WHERE id = 1")
    with op.get_context().autocommit_block():
        # Outside a transaction block PostgreSQL refuses LOCK TABLE outright.
        op.execute("LOCK TABLE payments IN ROW EXCLUSIVE MODE")  # expect: table-lock-statement


def downgrade() -> None:
    pass
