"""Core conditions that do not pin the primary key can match every row."""

import sqlalchemy as sa
from alembic import op

revision = "unbatched_dml_bad_core_condition_on_other_column"
down_revision = None
branch_labels = None
depends_on = None

users = sa.table(
    "users", sa.column("id", sa.Integer), sa.column("role", sa.String), sa.column("email")
)
sessions = sa.table("sessions", sa.column("id", sa.Integer), sa.column("user_id", sa.Integer))


def upgrade() -> None:
    bind = op.get_bind()
    owner = bind.execute(sa.select(users.c.id).where(users.c.email == "owner@example.com")).one()
    bind.execute(sessions.delete().where(sessions.c.user_id == owner.id))  # expect: unbatched-dml
    # expect-below: unbatched-dml
    bind.execute(sa.update(users).where(users.c.role == "guest").values(role="member"))
    # expect-below: unbatched-dml
    bind.execute(sa.delete(sessions).where(sessions.c.id == sessions.c.user_id))
    # expect-below: unbatched-dml
    bind.execute(sa.delete(sessions).where(sa.or_(sessions.c.id == 1, sessions.c.user_id == 2)))
    # expect-below: unbatched-dml
    bind.execute(
        sa.delete(sessions).where(
            sessions.c.id.in_(sa.select(sessions.c.id).where(sessions.c.user_id.is_(None)))
        )
    )


def downgrade() -> None:
    """Data only: nothing in the schema to undo."""
