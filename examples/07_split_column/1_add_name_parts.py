"""split users.name, step 1 of 3 (expand): add first_name and last_name

When to use: one column becomes two while old and new code run side by side
(replicas, a rolling deploy), and the old values must come back on a
downgrade. Here ``users.name`` holds full names such as 'Ada King Lovelace'.
Each step is a deploy of its own:

1. This revision: add ``first_name`` and ``last_name``, nullable. Old code
   never sees them and keeps writing ``name`` only.
2. Release A: writes ``name`` and both parts; still reads ``name``.
3. Revision 2 (2_backfill_name_parts.py): split ``name`` into the parts of
   every row whose parts do not match it: rows from before release A, and
   rows old code wrote or renamed while it still ran.
4. Release B: reads the parts, still writes both (rolling back to A stays
   possible). Release C: no longer maps ``name``.
5. Revision 3 (3_drop_name.py): drop ``name``.

Dropping ``name`` in the revision that splits it would lose what old code
writes meanwhile: an insert behind the batch cursor, a rename of a row
already split.

The split is lossless: ``first_name`` is everything before the first space,
``last_name`` everything after it (more spaces included), NULL when there is
no space. So ``first_name || ' ' || last_name`` (or ``first_name`` alone)
gives back the exact original, also for '', ' Ada' and double spaces.

Rerunnable: a column is added only when missing.

Cost: two catalog-only ADD COLUMNs: a moment of ACCESS EXCLUSIVE on users on
PostgreSQL, no rewrite. SQLite adds them in place.

Dialects: PostgreSQL and SQLite.

Downgrade: drops both parts. ``name`` still holds every value as long as
releases A and B write both.

To use it: copy this folder's files into alembic/versions and set this file's
down_revision to your own head (``alembic heads``); here it is this project's head.

Revision ID: c1a956a5ec0b
Revises: 3525a8febceb
Create Date: 2026-11-26 17:14:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "c1a956a5ec0b"
down_revision: str | Sequence[str] | None = "3525a8febceb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the two parts, nullable, skipping any an earlier run added."""
    existing = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("users")}
    for name in ("first_name", "last_name"):
        if name not in existing:
            op.add_column("users", sa.Column(name, sa.String(length=100), nullable=True))


def downgrade() -> None:
    """Drop both parts; batch mode rebuilds the table on SQLite."""
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("last_name")
        batch_op.drop_column("first_name")
