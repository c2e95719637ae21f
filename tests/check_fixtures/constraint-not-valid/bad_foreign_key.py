"""A foreign key validated while both tables are locked."""

import sqlalchemy as sa
from alembic import op

revision = "constraint_not_valid_bad_foreign_key"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("user_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(  # expect: constraint-not-valid
        "fk_orders_user_id", "orders", "users", ["user_id"], ["id"]
    )


def downgrade() -> None:
    op.drop_constraint("fk_orders_user_id", "orders", type_="foreignkey")
    op.drop_column("orders", "user_id")
