"""Values pasted into SQL with an f-string."""

from alembic import op

revision = "sql_string_formatting_bad_fstring"
down_revision = None
branch_labels = None
depends_on = None

DESCRIPTION = "People who can sign in"


def upgrade() -> None:
    op.execute(f"COMMENT ON TABLE users IS '{DESCRIPTION}'")  # expect: sql-string-formatting


def downgrade() -> None:
    op.execute("COMMENT ON TABLE users IS NULL")
