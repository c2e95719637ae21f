"""ALTER COLUMN ... TYPE in SQL: the old type is unknown, so a rewrite cannot be ruled out."""

from alembic import op

revision = "type_change_rewrite_bad_raw_sql"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE users ALTER COLUMN age TYPE bigint")  # expect: type-change-rewrite
    # expect-below: type-change-rewrite
    op.execute(
        "ALTER TABLE payments ALTER COLUMN note SET DEFAULT '', "
        "ALTER amount SET DATA TYPE numeric(12, 2) USING amount::numeric(12, 2)"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE payments ALTER amount TYPE numeric(10, 2)")
    op.execute("ALTER TABLE users ALTER COLUMN age TYPE integer")
