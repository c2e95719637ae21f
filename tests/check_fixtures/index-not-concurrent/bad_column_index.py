"""Column(index=True) in add_column also builds a blocking index."""

import sqlalchemy as sa
from alembic import op

revision = "index_not_concurrent_bad_column_index"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(  # expect: index-not-concurrent
        "users", sa.Column("team_id", sa.BigInteger(), nullable=True, index=True)
    )


def downgrade() -> None:
    op.drop_column("users", "team_id")
