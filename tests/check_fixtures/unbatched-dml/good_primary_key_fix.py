"""A fix to rows picked by primary key is not a backfill."""

from alembic import op

revision = "unbatched_dml_good_primary_key_fix"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE settings SET value = 'on' WHERE id IN (3, 4)")


def downgrade() -> None:
    op.execute("UPDATE settings SET value = 'off' WHERE id IN (3, 4)")
