"""An ORM backfill in a revision of its own, by primary key, holds no DDL lock."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy import orm

revision = "backfill_with_ddl_good_orm_backfill_without_ddl"
down_revision = None
branch_labels = None
depends_on = None

Base = orm.declarative_base()


class User(Base):
    __tablename__ = "users"
    id = sa.Column(sa.Integer, primary_key=True)
    role = sa.Column(sa.String(20))


def upgrade() -> None:
    session = orm.Session(bind=op.get_bind())
    session.query(User).filter(User.id == 1).update({User.role: "admin"})
    for user in session.query(User).filter(User.id.in_([2, 3])):
        user.role = "member"
    session.flush()


def downgrade() -> None:
    pass
