"""varchar to text, and numeric with more precision, are in-place changes."""

import sqlalchemy as sa
from alembic import op

revision = "type_change_rewrite_good_varchar_to_text"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("users", "bio", type_=sa.Text(), existing_type=sa.String(500))
    op.alter_column(
        "orders", "total", type_=sa.Numeric(14, 2), existing_type=sa.Numeric(precision=10, scale=2)
    )


def downgrade() -> None:
    op.alter_column("users", "bio", type_=sa.String(500), existing_type=sa.Text())
    op.alter_column("orders", "total", type_=sa.Numeric(10, 2), existing_type=sa.Numeric(14, 2))
