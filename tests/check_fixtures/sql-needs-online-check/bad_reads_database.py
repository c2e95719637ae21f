"""Reads a count from the database, which offline rendering cannot do."""

import sqlalchemy as sa
from alembic import op

revision = "sql_needs_online_check_bad_reads_database"
down_revision = None
branch_labels = None
depends_on = None

MAX_ROWS = 1_000_000


def upgrade() -> None:
    bind = op.get_bind()
    # expect-below: sql-needs-online-check
    count = bind.execute(sa.text("SELECT count(*) FROM users")).scalar_one()
    if count > MAX_ROWS:
        raise RuntimeError(f"users has {count} rows; run the backfill script instead")


def downgrade() -> None:
    pass
