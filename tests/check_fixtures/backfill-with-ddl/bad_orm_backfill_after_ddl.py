"""ORM backfills run UPDATEs too: after DDL on their table they hold its lock."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy import orm

revision = "backfill_with_ddl_bad_orm_backfill_after_ddl"
down_revision = None
branch_labels = None
depends_on = None

Base = orm.declarative_base()


class User(Base):
    __tablename__ = "users"
    id = sa.Column(sa.Integer, primary_key=True)
    role = sa.Column(sa.String(20))


def upgrade() -> None:
    op.add_column("users", sa.Column("role", sa.String(20), nullable=True))
    op.add_column("memberships", sa.Column("level", sa.Integer(), nullable=True))
    session = orm.Session(bind=op.get_bind())
    session.query(User).update({User.role: "member"})  # expect: backfill-with-ddl, unbatched-dml
    for user in session.query(User).filter(User.role.is_(None)):
        user.role = "member"  # expect: backfill-with-ddl, unbatched-dml
        for membership in user.memberships:
            membership.level = 1  # expect: backfill-with-ddl, unbatched-dml
    session.flush()


def downgrade() -> None:
    op.drop_column("memberships", "level")
    op.drop_column("users", "role")
