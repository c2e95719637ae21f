"""An identity column numbers every existing row."""

import sqlalchemy as sa
from alembic import op

revision = "volatile_default_bad_identity"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(  # expect: volatile-default
        "events", sa.Column("seq", sa.BigInteger(), sa.Identity(), nullable=False)
    )


def downgrade() -> None:
    op.drop_column("events", "seq")
