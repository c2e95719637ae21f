"""ADD COLUMN in SQL with a per-row value: every existing row is rewritten."""

from alembic import op

revision = "volatile_default_bad_raw_sql"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # expect-below: volatile-default
    op.execute("ALTER TABLE users ADD COLUMN public_id uuid NOT NULL DEFAULT gen_random_uuid()")
    # expect-below: volatile-default
    op.execute("ALTER TABLE orders ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY")
    # expect-below: volatile-default
    op.execute(
        "ALTER TABLE orders ADD COLUMN total_cents bigint "
        "GENERATED ALWAYS AS (round(total * 100)) STORED"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE orders DROP COLUMN total_cents")
    op.execute("ALTER TABLE orders DROP COLUMN seq")
    op.execute("ALTER TABLE users DROP COLUMN public_id")
