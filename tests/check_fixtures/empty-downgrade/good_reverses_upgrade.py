"""downgrade() drops what upgrade() added."""

import sqlalchemy as sa
from alembic import op

revision = "empty_downgrade_good_reverses_upgrade"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("bio", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "bio")
