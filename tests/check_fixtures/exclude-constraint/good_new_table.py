"""The constraint is built with the new table, before anyone uses it."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "exclude_constraint_good_new_table"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "room_bookings",
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("during", postgresql.TSTZRANGE(), nullable=False),
    )
    op.create_exclude_constraint(
        "excl_room_bookings", "room_bookings", ("room_id", "="), ("during", "&&"), using="gist"
    )


def downgrade() -> None:
    op.drop_table("room_bookings")
