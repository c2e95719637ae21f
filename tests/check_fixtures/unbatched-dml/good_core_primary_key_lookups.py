"""SQLAlchemy Core statements that look rows up by primary key touch a known handful of rows."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import declarative_base

revision = "unbatched_dml_good_core_primary_key_lookups"
down_revision = None
branch_labels = None
depends_on = None

Base = declarative_base()


class User(Base):
    __tablename__ = "users"
    id = sa.Column(sa.Integer, primary_key=True)
    role = sa.Column(sa.String)


users = sa.table(
    "users", sa.column("id", sa.Integer), sa.column("role", sa.String), sa.column("email")
)
sessions = sa.table("sessions", sa.column("id", sa.Integer), sa.column("user_id", sa.Integer))
RETIRED_SESSIONS = [3, 5, 8]


def upgrade() -> None:
    bind = op.get_bind()
    owner = bind.execute(sa.select(users.c.id).where(users.c.email == "owner@example.com")).one()
    bind.execute(users.update().where(users.c.id == owner.id).values(role="owner"))
    bind.execute(sa.update(users).where(users.c["id"] == 1).values(role="admin"))
    bind.execute(sessions.delete().where(sessions.c.id.in_(RETIRED_SESSIONS)))
    bind.execute(
        users.update().where(users.c.id == sa.bindparam("user_id")).values(role="admin"),
        [{"user_id": 2}, {"user_id": 3}],
    )
    bind.execute(
        sa.update(users)
        .where(sa.and_(users.c.role.is_(None), users.c.id == owner.id))
        .values(role="member")
    )
    bind.execute(
        sa.delete(sessions).where((sessions.c.user_id == owner.id) & (sa.column("id") == 9))
    )
    bind.execute(sa.update(User).where(User.id == owner.id).values(role="owner"))


def downgrade() -> None:
    """Data only: nothing in the schema to undo."""
