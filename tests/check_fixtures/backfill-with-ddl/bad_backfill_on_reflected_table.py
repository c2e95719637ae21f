"""A backfill of reflected tables after their DDL, in the same transaction."""

import sqlalchemy as sa
from alembic import op

revision = "backfill_with_ddl_bad_backfill_on_reflected_table"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("role", sa.String(20), nullable=True))
    op.add_column("accounts", sa.Column("plan", sa.String(20), nullable=True))
    op.add_column("sessions", sa.Column("kind", sa.String(20), nullable=True))
    bind = op.get_bind()
    meta = sa.MetaData()
    meta.reflect(bind=bind, only=["users"])
    users = meta.tables["users"]
    bind.execute(users.update().values(role="member"))  # expect: backfill-with-ddl, unbatched-dml
    accounts = sa.Table("accounts", meta, autoload_with=bind)
    # expect-below: backfill-with-ddl, unbatched-dml
    bind.execute(sa.update(accounts).where(accounts.c.plan.is_(None)).values(plan="free"))
    sessions = sa.Table("sessions", sa.MetaData(), autoload_with=op.get_bind())
    # expect-below: backfill-with-ddl, unbatched-dml
    bind.execute(sessions.delete().where(sessions.c.kind.is_(None)))


def downgrade() -> None:
    op.drop_column("sessions", "kind")
    op.drop_column("accounts", "plan")
    op.drop_column("users", "role")
