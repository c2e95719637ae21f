"""Constant and stable defaults in SQL are stored once: no rewrite."""

from alembic import op

revision = "volatile_default_good_raw_sql"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE users ADD COLUMN tier text NOT NULL DEFAULT 'free', "
        "ADD COLUMN joined_at timestamptz NOT NULL DEFAULT now()"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE users DROP COLUMN joined_at")
    op.execute("ALTER TABLE users DROP COLUMN tier")
