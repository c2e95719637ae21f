"""clock_timestamp() is volatile, unlike now()."""

import sqlalchemy as sa
from alembic import op

revision = "volatile_default_bad_clock_timestamp"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(  # expect: volatile-default
        "events",
        sa.Column(
            "seen_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.clock_timestamp(),
            nullable=True,
        ),
    )


def downgrade() -> None:
    op.drop_column("events", "seen_at")
