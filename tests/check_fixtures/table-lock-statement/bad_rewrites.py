"""VACUUM FULL and CLUSTER rewrite the table under ACCESS EXCLUSIVE."""

from alembic import op

revision = "table_lock_statement_bad_rewrites"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute("VACUUM FULL events")  # expect: table-lock-statement
        op.execute("VACUUM (VERBOSE, FULL) audit_log, sessions")  # expect: table-lock-statement
    op.execute("CLUSTER events USING ix_events_created_at")  # expect: table-lock-statement
    op.execute("CLUSTER ix_sessions_user_id ON sessions")  # expect: table-lock-statement


def downgrade() -> None:
    op.execute("ALTER TABLE sessions SET WITHOUT CLUSTER")
    op.execute("ALTER TABLE events SET WITHOUT CLUSTER")
