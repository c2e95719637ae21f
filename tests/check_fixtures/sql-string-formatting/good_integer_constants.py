"""Integers computed from integer literals print as digits: nothing to quote or inject."""

import sqlalchemy as sa
from alembic import op

revision = "sql_string_formatting_good_integer_constants"
down_revision = None
branch_labels = None
depends_on = None

BATCH = 1000
LOCK_TIMEOUT_MS = 2000


def upgrade() -> None:
    op.execute(f"SET LOCAL lock_timeout = {LOCK_TIMEOUT_MS}")
    op.execute("SET LOCAL statement_timeout = %d" % (LOCK_TIMEOUT_MS * 30))  # noqa: UP031
    op.execute("SET LOCAL idle_in_transaction_session_timeout = {}".format(-1 + BATCH * 60))  # noqa: UP032
    op.execute("SET LOCAL work_mem = %(kb)d" % {"kb": 64 * 1024})  # noqa: UP031
    bind = op.get_bind()
    with op.get_context().autocommit_block():
        offset = 0
        while offset < BATCH * 50:
            bind.execute(
                sa.text(
                    "UPDATE users SET role = 'member' WHERE id IN "
                    f"(SELECT id FROM users ORDER BY id LIMIT {BATCH} OFFSET {offset})"
                )
            )
            offset += BATCH


def downgrade() -> None:
    timeout = 5000
    op.execute(f"SET LOCAL lock_timeout = {timeout:d}")
