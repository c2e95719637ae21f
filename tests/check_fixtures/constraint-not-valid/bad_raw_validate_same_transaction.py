"""NOT VALID, then VALIDATE in one transaction: the ADD's lock is held for the scan."""

from alembic import op

revision = "constraint_not_valid_bad_raw_validate_same_transaction"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE orders ADD COLUMN note text, "
        "ADD CONSTRAINT ck_orders_note CHECK (length(note) < 500) NOT VALID"
    )
    # expect-below: constraint-not-valid
    op.execute("ALTER TABLE orders VALIDATE CONSTRAINT ck_orders_note")


def downgrade() -> None:
    op.execute("ALTER TABLE orders DROP CONSTRAINT ck_orders_note")
    op.execute("ALTER TABLE orders DROP COLUMN note")
