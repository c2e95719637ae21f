"""rollback, release N+1: projects.visibility NOT NULL without a default (breaks release N)

When to use: as an example of what NOT to ship in the release that may be
rolled back. The column is filled for the existing rows, then loses its
default, so every insert must name it: release N+1 does, release N does not,
and its ``INSERT INTO projects`` fails with a NOT NULL violation. An app-only
rollback is not enough here. Two ways back, both tested:

- Path 2, schema downgrade, only if losing what the downgrade drops is
  acceptable. Undo only the revisions that break release N, here this one:
  ``alembic downgrade 45614e1c68a9`` keeps the expand-only locale, which
  release N works on. Run it with release N+1's scripts: release N's
  alembic/versions lacks this file, so there ``alembic downgrade -1`` fails
  with "Can't locate revision identified by '...'". From release N+1's
  checkout or image: the downgrade, then ``alembic current`` shows
  45614e1c68a9; then deploy release N. Until it is out, release N+1's pods
  fail on every insert naming visibility (the column is gone); deployed the
  other way round, release N's inserts fail until the downgrade.
- Path 3, roll forward (3_roll_forward_visibility_default.py): when the
  visibility values written since the deploy must be kept.

Cost: ADD COLUMN with a constant default, then DROP DEFAULT: each a moment of
ACCESS EXCLUSIVE on PostgreSQL (11+), no rewrite. SQLite: the DROP DEFAULT is a
batch-mode table copy.

Dialects: PostgreSQL and SQLite.

Downgrade: drops ``visibility``: every value written since the deploy is lost
(rows keep everything else).

To use it: copy it into alembic/versions after 1_add_locale_expand.py.

Revision ID: 6a0ee4002ec4
Revises: 45614e1c68a9
Create Date: 2026-11-30 13:01:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "6a0ee4002ec4"
down_revision: str | Sequence[str] | None = "45614e1c68a9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add projects.visibility, filled with 'private', then drop the default."""
    op.add_column(
        "projects",
        sa.Column("visibility", sa.String(length=10), nullable=False, server_default="private"),
    )
    with op.batch_alter_table("projects") as batch_op:
        batch_op.alter_column(
            "visibility",
            existing_type=sa.String(length=10),
            existing_nullable=False,
            server_default=None,
        )


def downgrade() -> None:
    """Drop projects.visibility, and with it every value written since the deploy."""
    with op.batch_alter_table("projects") as batch_op:
        batch_op.drop_column("visibility")
