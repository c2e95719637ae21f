"""Column(unique=True) in add_column does the same."""

import sqlalchemy as sa
from alembic import op

revision = "unique_constraint_bad_column_unique"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(  # expect: unique-constraint
        "users", sa.Column("handle", sa.Text(), nullable=True, unique=True)
    )


def downgrade() -> None:
    op.drop_column("users", "handle")
