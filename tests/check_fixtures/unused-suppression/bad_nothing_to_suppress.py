"""Suppressions that match nothing: wrong line, and a misspelt id."""

import sqlalchemy as sa
from alembic import op

revision = "unused_suppression_bad_nothing_to_suppress"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # expect-below: unused-suppression
    # check: ignore[drop-column] the drop moved to the next revision
    op.add_column("users", sa.Column("bio", sa.Text(), nullable=True))
    # expect-below: unused-suppression
    # check: ignore[index-not-concurrent] meant for the index below, one line too high
    op.execute("COMMENT ON COLUMN users.bio IS 'Shown on the profile page'")
    # expect-below: unused-suppression, index-not-concurrent
    op.create_index("ix_users_bio", "users", ["bio"])  # check: ignore[index-not-concurent] 9 rows


def downgrade() -> None:
    op.drop_index("ix_users_bio", table_name="users")
    op.drop_column("users", "bio")
