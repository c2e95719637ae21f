"""The contract step, with the reason recorded next to the drop."""

import sqlalchemy as sa
from alembic import op

revision = "drop_table_good_drop_after_deploy"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("legacy_sessions")  # check: ignore[drop-table] unread since release 2.3


def downgrade() -> None:
    op.create_table(
        "legacy_sessions",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("token", sa.Text(), nullable=False),
    )
