"""The same through batch_alter_table."""

import sqlalchemy as sa
from alembic import op

revision = "set_not_null_bad_batch_set_not_null"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        # expect-below: set-not-null
        batch_op.alter_column("email", nullable=False, existing_type=sa.Text())


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.alter_column("email", nullable=True, existing_type=sa.Text())
