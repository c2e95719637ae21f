"""The DDL commits first; key-range batches on the reflected table then commit one by one."""

import sqlalchemy as sa
from alembic import op

revision = "backfill_with_ddl_good_reflected_table_in_autocommit"
down_revision = None
branch_labels = None
depends_on = None

BATCH_SIZE = 1000


def upgrade() -> None:
    op.add_column("users", sa.Column("role", sa.String(20), nullable=True))
    with op.get_context().autocommit_block():
        bind = op.get_bind()
        meta = sa.MetaData()
        meta.reflect(bind=bind, only=["users"])
        users = meta.tables["users"]
        last_id = bind.execute(sa.select(sa.func.coalesce(sa.func.max(users.c.id), 0))).scalar()
        for lower in range(0, last_id, BATCH_SIZE):
            bind.execute(
                users.update()
                .where(users.c.id > lower, users.c.id <= lower + BATCH_SIZE)
                .values(role="member")
            )


def downgrade() -> None:
    op.drop_column("users", "role")
