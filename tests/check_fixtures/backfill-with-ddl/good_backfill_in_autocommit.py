"""The DDL commits first; each batch then commits on its own."""

import sqlalchemy as sa
from alembic import op

revision = "backfill_with_ddl_good_backfill_in_autocommit"
down_revision = None
branch_labels = None
depends_on = None

BATCH_SIZE = 1000


def upgrade() -> None:
    op.add_column("users", sa.Column("role", sa.String(20), nullable=True))
    with op.get_context().autocommit_block():
        bind = op.get_bind()
        last_id = bind.execute(sa.text("SELECT coalesce(max(id), 0) FROM users")).scalar_one()
        for lower in range(0, last_id, BATCH_SIZE):
            bind.execute(
                sa.text("UPDATE users SET role = 'member' WHERE id > :lower AND id <= :upper"),
                {"lower": lower, "upper": lower + BATCH_SIZE},
            )


def downgrade() -> None:
    op.drop_column("users", "role")
