"""rename users.name, step 2 of 3 (migrate): copy name into display_name

When to use: after release A writes both columns, so every row written from now
on already has ``display_name``. See 1_add_new_column.py for the deploy order.

Copies ``name`` into ``display_name`` where it is still NULL, one primary-key
range at a time. Each batch commits on its own (``autocommit_block``), so no
lock is held across batches and a failure keeps the batches already done. A
rerun skips rows that have a value, so it is safe after an interruption, and it
never overwrites what release A wrote.

Cost: one short UPDATE per BATCH_SIZE rows: row locks on that batch only, no
table lock. Needs a live connection: ``--sql`` cannot page through rows.

Dialects: PostgreSQL and SQLite.

Downgrade: does nothing. The copied values are harmless, and revision 1's
downgrade drops the column with them.

Revision ID: 3b11da1eb2b5
Revises: e4902a51f857
Create Date: 2026-11-26 17:02:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "3b11da1eb2b5"
down_revision: str | Sequence[str] | None = "e4902a51f857"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH_SIZE = 5000

# The batch's last id first, then an UPDATE over that id range: a range scan on
# the primary key for each batch.
NEXT_BATCH_END = sa.text(
    "SELECT max(id) FROM "
    "(SELECT id FROM users WHERE id > :after ORDER BY id LIMIT :batch_size) AS batch"
)
COPY_BATCH = sa.text(
    "UPDATE users SET display_name = name "
    "WHERE id > :after AND id <= :through "
    "AND display_name IS NULL AND name IS NOT NULL"
)


def copy_names(bind: sa.Connection, batch_size: int = BATCH_SIZE) -> None:
    """Fill display_name from name, one committed batch at a time."""
    after = ""  # string ids: sorts before every id (use 0 for integer keys)
    while True:
        through = bind.execute(NEXT_BATCH_END, {"after": after, "batch_size": batch_size}).scalar()
        if through is None:
            return
        bind.execute(COPY_BATCH, {"after": after, "through": through})
        after = through


def upgrade() -> None:
    """Backfill display_name in batches, each committed on its own."""
    with op.get_context().autocommit_block():
        copy_names(op.get_bind())


def downgrade() -> None:
    """Nothing to undo: revision 1's downgrade drops display_name."""
