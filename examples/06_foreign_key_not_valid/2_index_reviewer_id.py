"""projects.reviewer_id, step 2 of 4: index the column, concurrently

When to use: before a foreign key goes onto a column of a big table. PostgreSQL
indexes the referenced key (users.id, the primary key) but never the
referencing column. Without an index on projects.reviewer_id, every DELETE of
a user, and every UPDATE of users.id, runs the foreign key's check as a full
scan of projects.

PostgreSQL: ``CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_projects_reviewer_id``
(the name models.py's naming convention gives ``index=True``) in
``op.get_context().autocommit_block()``, after dropping an INVALID leftover of
that name, as recipe 03 does: a failed concurrent build (a cancel, a deadlock)
leaves an INVALID index that IF NOT EXISTS would accept as done. The index
must exist before revision 3: the foreign key then never runs a day without it.

SQLite: a plain ``CREATE INDEX IF NOT EXISTS`` under the database's write lock.
Revision 3's batch copy keeps it.

Cost: PostgreSQL: SHARE UPDATE EXCLUSIVE on projects (reads and writes go on),
two scans of the table, a wait for its writers and for every older
transaction in the database (env.py lifts ``lock_timeout`` for that wait;
``statement_timeout`` still bounds it).

Dialects: PostgreSQL and SQLite.

Downgrade: ``DROP INDEX CONCURRENTLY IF EXISTS`` in an autocommit block. Only
the index is lost; it can be rebuilt.

Revision ID: 61e488cd7a10
Revises: cb660495cb7e
Create Date: 2026-11-30 13:10:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

# revision identifiers, used by Alembic.
revision: str = "61e488cd7a10"
down_revision: str | Sequence[str] | None = "cb660495cb7e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX_NAME = "ix_projects_reviewer_id"

# NULL: no such index; true: an INVALID leftover of a failed concurrent build.
INDEX_IS_INVALID = sa.text(
    "SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass(:index_name)"
)


def drop_invalid_leftover() -> None:
    """Drop an INVALID index of this name, left by a failed concurrent build."""
    if context.is_offline_mode() or op.get_context().dialect.name != "postgresql":
        return
    invalid = op.get_bind().execute(INDEX_IS_INVALID, {"index_name": INDEX_NAME}).scalar()
    if invalid:
        op.drop_index(INDEX_NAME, table_name="projects", postgresql_concurrently=True)


def upgrade() -> None:
    """Index projects.reviewer_id concurrently, outside any transaction."""
    with op.get_context().autocommit_block():
        drop_invalid_leftover()
        op.create_index(
            INDEX_NAME,
            "projects",
            ["reviewer_id"],
            postgresql_concurrently=True,
            if_not_exists=True,
        )


def downgrade() -> None:
    """Drop the index concurrently, outside any transaction."""
    with op.get_context().autocommit_block():
        op.drop_index(
            INDEX_NAME, table_name="projects", postgresql_concurrently=True, if_exists=True
        )
