"""A shorter varchar must check (and rewrites) every row."""

import sqlalchemy as sa
from alembic import op

revision = "type_change_rewrite_bad_shorter_varchar"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column(  # expect: type-change-rewrite
        "users", "email", type_=sa.String(100), existing_type=sa.String(255)
    )


def downgrade() -> None:
    op.alter_column("users", "email", type_=sa.String(255), existing_type=sa.String(100))
