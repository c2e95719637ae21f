"""projects.name_lower, step 1 of 2: the column, nullable

When to use: the start of a backfill on a big table with streaming replicas
(see 2_backfill_name_lower.py). If the column exists already, start there.

Deploy order:

1. This revision: add ``name_lower``, nullable, no default.
2. The release that writes ``name_lower`` on every insert and rename.
3. Revision 2: fill the old rows, throttled, then VACUUM (ANALYZE).

Cost: ADD COLUMN without a default: a moment of ACCESS EXCLUSIVE on projects
on PostgreSQL, no rewrite. SQLite adds it in place.

Dialects: PostgreSQL and SQLite.

Downgrade: drops ``name_lower``; every value is lost (computable again from
name).

To use it: copy this folder's files into alembic/versions and set this file's
down_revision to your own head (``alembic heads``); here it is this project's head.

Revision ID: 2f61310098fd
Revises: 3525a8febceb
Create Date: 2026-12-02 11:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "2f61310098fd"
down_revision: str | Sequence[str] | None = "3525a8febceb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add projects.name_lower, nullable."""
    op.add_column("projects", sa.Column("name_lower", sa.String(length=100), nullable=True))


def downgrade() -> None:
    """Drop projects.name_lower; batch mode rebuilds the table on SQLite."""
    with op.batch_alter_table("projects") as batch_op:
        batch_op.drop_column("name_lower")
