"""SET NOT NULL scans the table under ACCESS EXCLUSIVE."""

import sqlalchemy as sa
from alembic import op

revision = "set_not_null_bad_set_not_null"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # expect-below: set-not-null
    op.alter_column("users", "email", nullable=False, existing_type=sa.Text())


def downgrade() -> None:
    op.alter_column("users", "email", nullable=True, existing_type=sa.Text())
