"""A constant server_default fills existing rows from the catalog."""

import sqlalchemy as sa
from alembic import op

revision = "add_not_null_without_default_good_server_default"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("role", sa.String(20), nullable=False, server_default="member"),
        if_not_exists=True,
    )


def downgrade() -> None:
    op.drop_column("users", "role")
