"""FOREIGN KEY and CHECK added in SQL without NOT VALID scan the table under the lock."""

from alembic import op

revision = "constraint_not_valid_bad_raw_sql"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # expect-below: constraint-not-valid
    op.execute(
        "ALTER TABLE orders ADD CONSTRAINT fk_orders_user_id "
        "FOREIGN KEY (user_id) REFERENCES users (id)"
    )
    op.execute("ALTER TABLE orders ADD CHECK (total >= 0)")  # expect: constraint-not-valid
    # The NOT VALID on the first action does not cover the second.
    # expect-below: constraint-not-valid
    op.execute(
        "ALTER TABLE invoices ADD CONSTRAINT ck_invoices_due CHECK (due > issued) NOT VALID, "
        "ADD FOREIGN KEY (order_id) REFERENCES orders (id)"
    )
    # expect-below: constraint-not-valid
    op.execute("ALTER TABLE invoices ADD COLUMN payer_id bigint REFERENCES users (id)")


def downgrade() -> None:
    op.execute("ALTER TABLE invoices DROP COLUMN payer_id")
    op.execute("ALTER TABLE invoices DROP CONSTRAINT invoices_order_id_fkey")
    op.execute("ALTER TABLE invoices DROP CONSTRAINT ck_invoices_due")
    op.execute("ALTER TABLE orders DROP CONSTRAINT orders_total_check")
    op.execute("ALTER TABLE orders DROP CONSTRAINT fk_orders_user_id")
