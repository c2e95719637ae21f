"""ADD COLUMN ... NOT NULL in SQL without a DEFAULT fails on a table with rows."""

from alembic import op

revision = "add_not_null_without_default_bad_raw_sql"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # expect-below: add-not-null-without-default
    op.execute("ALTER TABLE users ADD COLUMN nickname text, ADD COLUMN role text NOT NULL")


def downgrade() -> None:
    op.execute("ALTER TABLE users DROP COLUMN role")
    op.execute("ALTER TABLE users DROP COLUMN nickname")
