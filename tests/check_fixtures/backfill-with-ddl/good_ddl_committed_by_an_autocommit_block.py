"""An autocommit block commits the DDL's transaction: DML after it holds no DDL lock."""

import sqlalchemy as sa
from alembic import op

revision = "backfill_with_ddl_good_ddl_committed_by_an_autocommit_block"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("role", sa.String(20), nullable=True))
    with op.get_context().autocommit_block():
        op.create_index("ix_users_role", "users", ["role"], postgresql_concurrently=True)
    op.execute("UPDATE users SET role = 'member' WHERE id = 1")


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index("ix_users_role", table_name="users", postgresql_concurrently=True)
    op.drop_column("users", "role")
