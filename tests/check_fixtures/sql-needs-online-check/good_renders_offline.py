"""Only op.* calls: renders offline, squawk reads all of it."""

import sqlalchemy as sa
from alembic import op

revision = "sql_needs_online_check_good_renders_offline"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("bio", sa.Text(), nullable=True), if_not_exists=True)


def downgrade() -> None:
    op.drop_column("users", "bio")
