"""NOT VALID then VALIDATE in one transaction holds the ADD's lock during the scan."""

from alembic import op

revision = "constraint_not_valid_bad_validate_same_transaction"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_check_constraint(
        "ck_orders_total_positive", "orders", "total >= 0", postgresql_not_valid=True
    )
    op.execute(  # expect: constraint-not-valid
        "ALTER TABLE orders VALIDATE CONSTRAINT ck_orders_total_positive"
    )


def downgrade() -> None:
    op.drop_constraint("ck_orders_total_positive", "orders", type_="check")
