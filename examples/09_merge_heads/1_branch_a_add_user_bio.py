"""branch A: add users.bio

When to use: this file and 2_branch_b_add_project_archived_at.py stand for two
feature branches that each ran ``alembic revision`` on the same head. Once
both are merged, the history has two heads: ``alembic heads`` prints two lines,
and ``alembic upgrade head`` fails with "Multiple head revisions are present
for given argument 'head'". 3_merge_heads.py joins them.

Cost: ADD COLUMN without a default: catalog only, a moment of ACCESS EXCLUSIVE
on PostgreSQL. SQLite adds it in place.

Dialects: PostgreSQL and SQLite.

Downgrade: drops ``users.bio``; every bio is lost.

To use it: set down_revision to your own head (``alembic heads``); here it is
this project's head.

Revision ID: 6e8f935755e0
Revises: 3525a8febceb
Create Date: 2026-11-26 17:16:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "6e8f935755e0"
down_revision: str | Sequence[str] | None = "3525a8febceb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add users.bio."""
    op.add_column("users", sa.Column("bio", sa.Text(), nullable=True))


def downgrade() -> None:
    """Drop users.bio; batch mode rebuilds the table on SQLite."""
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("bio")
