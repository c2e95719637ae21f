"""SET NOT NULL in SQL, after an ancestor added and another validated CHECK (email IS NOT NULL)."""

from alembic import op

revision = "set_not_null_good_3_set_not_null_in_sql"
down_revision = "set_not_null_good_2_validate"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE members ALTER COLUMN email SET NOT NULL")


def downgrade() -> None:
    op.execute("ALTER TABLE members ALTER COLUMN email DROP NOT NULL")
