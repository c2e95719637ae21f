"""Strings, loop variables, arguments, calls and names ever bound to a string stay findings."""

from alembic import op

revision = "sql_string_formatting_bad_values_that_are_not_integer_constants"
down_revision = None
branch_labels = None
depends_on = None

BATCH = 1000
ROLE = "member"


def _set_lock_timeout(milliseconds: int) -> None:
    op.execute(f"SET LOCAL lock_timeout = {milliseconds}")  # expect: sql-string-formatting


def upgrade() -> None:
    _set_lock_timeout(BATCH)
    # expect-below: sql-string-formatting
    op.execute(f"COMMENT ON TABLE users IS 'default {ROLE}, {BATCH} a batch'")
    for timeout in (1000, 2000):
        op.execute(f"SET LOCAL statement_timeout = {timeout}")  # expect: sql-string-formatting
    op.execute("SET LOCAL lock_timeout = %d" % len(ROLE))  # noqa: UP031  # expect: sql-string-formatting
    limit = BATCH
    if ROLE:
        limit = "0; DROP TABLE users"
    op.execute(f"SET LOCAL statement_timeout = {limit}")  # expect: sql-string-formatting
    op.execute("SET LOCAL lock_timeout = " + str(BATCH))  # expect: sql-string-formatting


def downgrade() -> None:
    op.execute("COMMENT ON TABLE users IS NULL")
