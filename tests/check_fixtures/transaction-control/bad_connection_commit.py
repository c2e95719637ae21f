"""Committing the connection Alembic is using."""

import sqlalchemy as sa
from alembic import op

revision = "transaction_control_bad_connection_commit"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    op.add_column("users", sa.Column("bio", sa.Text(), nullable=True))
    bind.commit()  # expect: transaction-control


def downgrade() -> None:
    op.drop_column("users", "bio")
