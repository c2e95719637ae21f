"""int to bigint rewrites every row and index."""

import sqlalchemy as sa
from alembic import op

revision = "type_change_rewrite_bad_integer_to_bigint"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column(  # expect: type-change-rewrite
        "orders", "quantity", type_=sa.BigInteger(), existing_type=sa.Integer()
    )


def downgrade() -> None:
    op.alter_column("orders", "quantity", type_=sa.Integer(), existing_type=sa.BigInteger())
