"""rename users.name to users.display_name

When to use: a column has the wrong name and every process that reads or writes
it is replaced in the same deploy (one instance, or a maintenance window). With
several replicas or a rolling deploy, the old code keeps querying ``name`` after
the rename and fails until it is gone: use the expand/contract variant in
examples/01_rename_column_expand_contract/ instead.

Autogenerate cannot see a rename. It writes drop_column + add_column, which
loses every value; rewrite that as ``alter_column(new_column_name=)``.

Cost: a catalog change. PostgreSQL takes ACCESS EXCLUSIVE on users for a moment
and rewrites nothing; indexes and constraints follow the column. SQLite 3.25+
renames in place too: alembic (1.14.1+) emits ALTER TABLE ... RENAME COLUMN for
a plain ``op.alter_column``. The same rename inside ``batch_alter_table`` works
as well, but copies the whole table on SQLite.

Dialects: PostgreSQL and SQLite.

Downgrade: renames the column back. No data is lost either way.

To use it: copy this file into alembic/versions and set down_revision to your
own head (``alembic heads``); here it is this project's head.

Revision ID: 5b67e70b7b31
Revises: 3525a8febceb
Create Date: 2026-11-26 17:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "5b67e70b7b31"
down_revision: str | Sequence[str] | None = "3525a8febceb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Rename users.name to display_name, keeping every value."""
    # check: ignore[rename-column] single deploy: the release reading display_name ships with it
    op.alter_column(
        "users",
        "name",
        new_column_name="display_name",
        existing_type=sa.String(length=100),
        existing_nullable=True,
    )


def downgrade() -> None:
    """Rename display_name back to name."""
    op.alter_column(
        "users",
        "display_name",
        new_column_name="name",
        existing_type=sa.String(length=100),
        existing_nullable=True,
    )
