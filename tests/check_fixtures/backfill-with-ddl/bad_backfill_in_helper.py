"""Helpers called from upgrade() are followed: the lock is the same."""

import sqlalchemy as sa
from alembic import op

revision = "backfill_with_ddl_bad_backfill_in_helper"
down_revision = None
branch_labels = None
depends_on = None

BATCH_SIZE = 1000


def backfill_roles(bind: sa.Connection) -> None:
    for lower in range(0, 100_000, BATCH_SIZE):
        bind.execute(  # expect: backfill-with-ddl
            sa.text("UPDATE users SET role = 'member' WHERE id > :lower AND id <= :upper"),
            {"lower": lower, "upper": lower + BATCH_SIZE},
        )


def upgrade() -> None:
    op.add_column("users", sa.Column("role", sa.String(20), nullable=True))
    backfill_roles(op.get_bind())


def downgrade() -> None:
    op.drop_column("users", "role")
