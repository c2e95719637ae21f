"""sa.ForeignKey inside add_column adds a validated constraint."""

import sqlalchemy as sa
from alembic import op

revision = "constraint_not_valid_bad_column_foreign_key"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(  # expect: constraint-not-valid
        "orders", sa.Column("user_id", sa.BigInteger(), sa.ForeignKey("users.id"), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("orders", "user_id")
