"""rollback, roll forward: give projects.visibility its default back, so release N works again

When to use: release N+1 must go, but the schema downgrade would lose data
written since its deploy (here the visibility values only release N+1 wrote;
likewise a dropped column, or a contract step). Instead of downgrading, add a
revision that makes the schema compatible with release N again: a server
default, a nullable column, a column added back and backfilled. Release N's
inserts then work, and nothing release N+1 wrote is lost.

Deploy order: ship this revision on top of release N+1's revisions (a
migration-only release, or N+1's image plus this file), run ``alembic upgrade
head`` from it, then redeploy release N. Release N's pods are ready: the
database is at a revision they do not know. Later releases keep this revision.

Cost: SET DEFAULT: a moment of ACCESS EXCLUSIVE on PostgreSQL, no rewrite and
no scan. SQLite: a batch-mode table copy.

Dialects: PostgreSQL and SQLite.

Downgrade: drops the default again; no data is lost.

To use it: copy it into alembic/versions after 2_require_project_visibility.py.

Revision ID: c985c49b4bc4
Revises: 6a0ee4002ec4
Create Date: 2026-11-30 13:02:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "c985c49b4bc4"
down_revision: str | Sequence[str] | None = "6a0ee4002ec4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Inserts that do not name visibility (release N's) get 'private'."""
    with op.batch_alter_table("projects") as batch_op:
        batch_op.alter_column(
            "visibility",
            existing_type=sa.String(length=10),
            existing_nullable=False,
            server_default="private",
        )


def downgrade() -> None:
    """Every insert must name visibility again."""
    with op.batch_alter_table("projects") as batch_op:
        batch_op.alter_column(
            "visibility",
            existing_type=sa.String(length=10),
            existing_nullable=False,
            server_default=None,
        )
