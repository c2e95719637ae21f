"""The contract step: code stopped reading the column a release ago."""

import sqlalchemy as sa
from alembic import op

revision = "drop_column_good_drop_after_deploy"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # check: ignore[drop-column] User.nickname left the model in release 2.3; nothing reads it
    op.drop_column("users", "nickname")


def downgrade() -> None:
    op.add_column("users", sa.Column("nickname", sa.Text(), nullable=True))
