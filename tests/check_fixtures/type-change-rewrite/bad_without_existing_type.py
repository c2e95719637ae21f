"""Without existing_type the change cannot be told apart from a rewrite."""

import sqlalchemy as sa
from alembic import op

revision = "type_change_rewrite_bad_without_existing_type"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("users", "email", type_=sa.String(320))  # expect: type-change-rewrite


def downgrade() -> None:
    op.alter_column("users", "email", type_=sa.String(255))
