"""The CHECK is validated, but in a revision that runs after this one."""

import sqlalchemy as sa
from alembic import op

revision = "set_not_null_bad_validated_in_a_later_revision"
down_revision = "set_not_null_good_1_check_not_valid"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # expect-below: set-not-null
    op.alter_column("members", "email", nullable=False, existing_type=sa.Text())


def downgrade() -> None:
    op.alter_column("members", "email", nullable=True, existing_type=sa.Text())
