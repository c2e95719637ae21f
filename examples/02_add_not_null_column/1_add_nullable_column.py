"""NOT NULL projects.slug, step 1 of 3: add the column, nullable

When to use: a new required column on a table that already has rows, where
each row's value must be computed (here a slug from the project's name), so a
constant ``server_default`` cannot fill it. For a constant, one
``add_column(..., nullable=False, server_default="x")`` is enough: since
PostgreSQL 11 that is a catalog change with no rewrite.

Deploy order:

1. This revision: add ``slug``, nullable.
2. The release that sets ``slug`` on every insert and on every rename.
3. Revision 2 (2_backfill_and_check_not_valid.py): fill the older rows in
   batches; on PostgreSQL add ``CHECK (slug IS NOT NULL) NOT VALID``.
4. Revision 3 (3_validate_and_set_not_null.py): validate the check, SET NOT
   NULL without a table scan, drop the check. On SQLite: batch mode.

Revisions 2 and 3 may run in one ``alembic upgrade`` (each revision commits on
its own with ``transaction_per_migration``), but not in one revision.

Cost: ADD COLUMN without a default: a moment of ACCESS EXCLUSIVE on PostgreSQL,
no rewrite. SQLite adds it in place.

Dialects: PostgreSQL and SQLite.

Downgrade: drops ``slug``; every slug is lost (they can be computed again).

To use it: copy this folder's files into alembic/versions and set this file's
down_revision to your own head (``alembic heads``); here it is this project's head.

Revision ID: fee2ea7d9288
Revises: 3525a8febceb
Create Date: 2026-11-26 17:04:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "fee2ea7d9288"
down_revision: str | Sequence[str] | None = "3525a8febceb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add projects.slug, nullable: the existing rows get it in revision 2."""
    op.add_column("projects", sa.Column("slug", sa.String(length=100), nullable=True))


def downgrade() -> None:
    """Drop projects.slug; batch mode rebuilds the table on SQLite."""
    with op.batch_alter_table("projects") as batch_op:
        batch_op.drop_column("slug")
