"""A CHECK constraint validated under the table lock."""

from alembic import op

revision = "constraint_not_valid_bad_check"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_check_constraint(  # expect: constraint-not-valid
        "ck_orders_total_positive", "orders", "total >= 0"
    )


def downgrade() -> None:
    op.drop_constraint("ck_orders_total_positive", "orders", type_="check")
