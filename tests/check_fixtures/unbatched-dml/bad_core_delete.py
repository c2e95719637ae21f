"""A Core DELETE with no bound, through sa.table()."""

import sqlalchemy as sa
from alembic import op

revision = "unbatched_dml_bad_core_delete"
down_revision = None
branch_labels = None
depends_on = None

sessions = sa.table("sessions", sa.column("id", sa.BigInteger))


def upgrade() -> None:
    op.execute(sessions.delete())  # expect: unbatched-dml


def downgrade() -> None:
    pass
