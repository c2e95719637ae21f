"""projects.reviewer_id, step 1 of 4: the column, without a foreign key yet

When to use: the start of adding a foreign key to a big, busy table. If the
column exists already, with data, start at 2_index_reviewer_id.py.

Deploy order:

1. This revision: add ``reviewer_id``, nullable, no constraint.
2. The release that writes reviewer ids.
3. Revision 2: an index on ``reviewer_id``, built concurrently, so that a
   DELETE of a user finds its projects without scanning the table.
4. Revision 3: the foreign key, NOT VALID: new writes are checked, old rows are
   not scanned.
5. Revision 4, a later revision (any later deploy): VALIDATE the old rows.

Cost: ADD COLUMN without a default: a moment of ACCESS EXCLUSIVE on projects on
PostgreSQL, no rewrite. SQLite adds it in place.

Dialects: PostgreSQL and SQLite.

Downgrade: drops ``reviewer_id``; every reviewer id is lost.

To use it: copy this folder's files into alembic/versions and set this file's
down_revision to your own head (``alembic heads``); here it is this project's head.

Revision ID: cb660495cb7e
Revises: 3525a8febceb
Create Date: 2026-11-26 17:11:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "cb660495cb7e"
down_revision: str | Sequence[str] | None = "3525a8febceb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add projects.reviewer_id, nullable and unconstrained."""
    op.add_column("projects", sa.Column("reviewer_id", sa.String(length=36), nullable=True))


def downgrade() -> None:
    """Drop projects.reviewer_id; batch mode rebuilds the table on SQLite."""
    with op.batch_alter_table("projects") as batch_op:
        batch_op.drop_column("reviewer_id")
