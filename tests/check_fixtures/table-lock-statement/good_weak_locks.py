"""Locks that let writes through, a plain VACUUM in autocommit, a rewrite of a new table."""

from alembic import op

revision = "table_lock_statement_good_weak_locks"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("LOCK TABLE users IN ROW EXCLUSIVE MODE")
    op.execute("LOCK TABLE accounts IN SHARE UPDATE EXCLUSIVE MODE NOWAIT")
    op.execute("CREATE TABLE import_rows (id bigint PRIMARY KEY, line text)")
    op.execute("CLUSTER import_rows USING import_rows_pkey")
    with op.get_context().autocommit_block():
        op.execute("VACUUM (ANALYZE) users")
        op.execute("VACUUM (FULL false) accounts")


def downgrade() -> None:
    op.execute("DROP TABLE import_rows")
