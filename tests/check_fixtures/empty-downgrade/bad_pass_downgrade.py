"""The schema changed but downgrade() silently does nothing."""

import sqlalchemy as sa
from alembic import op

revision = "empty_downgrade_bad_pass_downgrade"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("bio", sa.Text(), nullable=True))


def downgrade() -> None:  # expect: empty-downgrade
    pass
