"""The reason follows the bracket."""

import sqlalchemy as sa
from alembic import op

revision = "suppression_without_reason_good_with_reason"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_column("users", "nickname")  # check: ignore[drop-column] unread since release 2.3


def downgrade() -> None:
    op.add_column("users", sa.Column("nickname", sa.Text(), nullable=True))
