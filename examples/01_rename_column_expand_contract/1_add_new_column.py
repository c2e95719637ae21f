"""rename users.name, step 1 of 3 (expand): add users.display_name

When to use: renaming a column while several replicas, or a rolling deploy,
keep old and new code running side by side. Each step is a deploy of its own:

1. This revision: add ``display_name``, nullable. Old code never sees it.
2. Release A: write both ``name`` and ``display_name``; keep reading ``name``.
3. Revision 2 (2_backfill_new_column.py): copy ``name`` into the rows that
   predate release A.
4. Release B: read ``display_name``; keep writing both, so rolling back to
   release A stays possible.
5. Release C: remove ``name`` from the model; nothing reads or writes it.
6. Revision 3 (3_drop_old_column.py): drop ``name``.

Cost: ADD COLUMN without a default is a catalog change: a moment of ACCESS
EXCLUSIVE on users on PostgreSQL, no rewrite. SQLite adds it in place.

Dialects: PostgreSQL and SQLite.

Downgrade: drops ``display_name``. While releases A and B write both columns it
holds nothing that ``name`` lacks; a value written only to display_name (by
release C, after revision 3 was rolled back) would be lost.

To use it: copy this folder's files into alembic/versions and set this file's
down_revision to your own head (``alembic heads``); here it is this project's head.

Revision ID: e4902a51f857
Revises: 3525a8febceb
Create Date: 2026-11-26 17:01:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "e4902a51f857"
down_revision: str | Sequence[str] | None = "3525a8febceb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the new column, nullable: existing rows need no value yet."""
    op.add_column("users", sa.Column("display_name", sa.String(length=100), nullable=True))


def downgrade() -> None:
    """Drop the new column; batch mode rebuilds the table on SQLite."""
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("display_name")
