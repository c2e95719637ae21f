"""SET NOT NULL in SQL, among other actions, or before the VALIDATE that would prove it."""

from alembic import op

revision = "set_not_null_bad_raw_sql"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # expect-below: set-not-null
    op.execute("ALTER TABLE orders ADD COLUMN note text, ALTER COLUMN placed_at SET NOT NULL")
    with op.get_context().autocommit_block():
        op.execute(
            "ALTER TABLE orders ADD CONSTRAINT ck_orders_total_not_null "
            "CHECK (total IS NOT NULL) NOT VALID"
        )
    op.execute("ALTER TABLE orders ALTER total SET NOT NULL")  # expect: set-not-null
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE orders VALIDATE CONSTRAINT ck_orders_total_not_null")


def downgrade() -> None:
    op.execute("ALTER TABLE orders ALTER total DROP NOT NULL")
    op.execute("ALTER TABLE orders DROP CONSTRAINT ck_orders_total_not_null")
    op.execute("ALTER TABLE orders ALTER COLUMN placed_at DROP NOT NULL")
    op.execute("ALTER TABLE orders DROP COLUMN note")
