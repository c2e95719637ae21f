"""A batched backfill still holds the ADD COLUMN lock until commit."""

import sqlalchemy as sa
from alembic import op

revision = "backfill_with_ddl_bad_backfill_after_add_column"
down_revision = None
branch_labels = None
depends_on = None

BATCH_SIZE = 1000


def upgrade() -> None:
    op.add_column("users", sa.Column("role", sa.String(20), nullable=True))
    bind = op.get_bind()
    last_id = bind.execute(sa.text("SELECT coalesce(max(id), 0) FROM users")).scalar_one()
    for lower in range(0, last_id, BATCH_SIZE):
        bind.execute(  # expect: backfill-with-ddl
            sa.text("UPDATE users SET role = 'member' WHERE id > :lower AND id <= :upper"),
            {"lower": lower, "upper": lower + BATCH_SIZE},
        )


def downgrade() -> None:
    op.drop_column("users", "role")
