"""Committing Alembic's own connection, reached straight through op.get_bind()."""

import sqlalchemy as sa
from alembic import op

revision = "transaction_control_bad_get_bind_commit"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("bio", sa.Text(), nullable=True))
    op.get_bind().commit()  # expect: transaction-control


def downgrade() -> None:
    op.drop_column("users", "bio")
    op.get_bind().rollback()  # expect: transaction-control
