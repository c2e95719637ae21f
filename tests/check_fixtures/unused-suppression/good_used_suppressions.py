"""Every suppression matches a finding; squawk ids wait for --sql."""

import sqlalchemy as sa
from alembic import op

revision = "unused_suppression_good_used_suppressions"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("bio", sa.Text(), nullable=True))
    # check: ignore[index-not-concurrent, squawk:require-concurrent-index-creation] 40 rows
    op.create_index("ix_users_bio", "users", ["bio"])


def downgrade() -> None:
    op.drop_index("ix_users_bio", table_name="users")
    op.drop_column("users", "bio")
