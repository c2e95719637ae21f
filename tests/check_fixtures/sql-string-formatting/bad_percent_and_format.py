"""% formatting and .format(), also through a variable."""

from alembic import op

revision = "sql_string_formatting_bad_percent_and_format"
down_revision = None
branch_labels = None
depends_on = None

TABLE = "users"


def upgrade() -> None:
    statement = "COMMENT ON TABLE {} IS 'People who can sign in'".format(TABLE)  # noqa: UP032
    op.execute(statement)  # expect: sql-string-formatting


def downgrade() -> None:
    op.execute("COMMENT ON TABLE %s IS NULL" % TABLE)  # noqa: UP031  # expect: sql-string-formatting
