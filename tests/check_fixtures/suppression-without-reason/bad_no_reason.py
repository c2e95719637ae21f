"""A suppression must say why the finding is safe."""

import sqlalchemy as sa
from alembic import op

revision = "suppression_without_reason_bad_no_reason"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # expect-below: suppression-without-reason
    op.drop_column("users", "nickname")  # check: ignore[drop-column]


def downgrade() -> None:
    op.add_column("users", sa.Column("nickname", sa.Text(), nullable=True))
