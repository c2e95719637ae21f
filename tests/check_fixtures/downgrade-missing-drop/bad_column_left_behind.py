"""Two columns added, one dropped."""

import sqlalchemy as sa
from alembic import op

revision = "downgrade_missing_drop_bad_column_left_behind"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("bio", sa.Text(), nullable=True))
    # expect-below: downgrade-missing-drop
    op.add_column("users", sa.Column("website", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "bio")
