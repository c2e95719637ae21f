"""DDL and then DML in one SQL string: the order inside the string counts."""

from alembic import op

revision = "backfill_with_ddl_bad_ddl_then_dml_in_one_execute"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(  # expect: backfill-with-ddl, unbatched-dml
        "ALTER TABLE users ADD COLUMN role varchar(20); "
        "UPDATE users SET role = 'member'; UPDATE users SET role = 'admin' WHERE is_admin"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE users DROP COLUMN role")
