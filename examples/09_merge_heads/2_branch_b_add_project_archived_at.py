"""branch B: add projects.archived_at

When to use: the second of two branches from the same head; see
1_branch_a_add_user_bio.py.

Cost: ADD COLUMN without a default: catalog only, a moment of ACCESS EXCLUSIVE
on PostgreSQL. SQLite adds it in place.

Dialects: PostgreSQL and SQLite.

Downgrade: drops ``projects.archived_at``; every archive time is lost.

To use it: set down_revision to your own head (``alembic heads``); here it is
this project's head.

Revision ID: 821c574c7d44
Revises: 3525a8febceb
Create Date: 2026-11-26 17:17:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "821c574c7d44"
down_revision: str | Sequence[str] | None = "3525a8febceb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add projects.archived_at."""
    op.add_column("projects", sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop projects.archived_at; batch mode rebuilds the table on SQLite."""
    with op.batch_alter_table("projects") as batch_op:
        batch_op.drop_column("archived_at")
