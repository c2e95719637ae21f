"""index users.created_at without blocking writes

When to use: a new index on a table that is big or busy. A plain CREATE INDEX
on PostgreSQL holds a SHARE lock for the whole build: reads go on, but every
INSERT, UPDATE and DELETE on users waits until it finishes.

PostgreSQL: ``CREATE INDEX CONCURRENTLY IF NOT EXISTS``, which cannot run in a
transaction block, so it runs in ``op.get_context().autocommit_block()``. The
block commits whatever the migration did before it; alembic recommends
``transaction_per_migration=True`` in env.py alongside it, so that is only this
revision's work. The build waits for every transaction in the database that
holds an older snapshot, which ``lock_timeout`` would cut short: this project's
env.py sets it to 0 for the build alone and back afterwards (where lock_timeout
comes from the role or the server, do the same around the build), and
``statement_timeout`` still bounds it. If a concurrent build fails (a deadlock, a
cancel, a duplicate in a unique index) it leaves an INVALID index behind, which
IF NOT EXISTS would then accept as done. So the upgrade first drops an invalid
leftover of that name, concurrently, and builds it again.

SQLite: a plain ``CREATE INDEX IF NOT EXISTS``; ``postgresql_concurrently`` is
ignored there. The build holds the database's write lock.

Cost: PostgreSQL takes SHARE UPDATE EXCLUSIVE (writes go on; VACUUM, ANALYZE
and other DDL on users wait), scans the table twice, and waits for the table's
writers and for every transaction in the database with an older snapshot;
expect it to take longer than a plain build. No other revision's DDL may share
its transaction.

Dialects: PostgreSQL and SQLite.

Downgrade: ``DROP INDEX CONCURRENTLY IF EXISTS`` in an autocommit block (a plain
DROP INDEX takes ACCESS EXCLUSIVE). Only the index is lost; it can be rebuilt.

To use it: copy this file into alembic/versions and set down_revision to your
own head (``alembic heads``); here it is this project's head.

Revision ID: dc70a9f1b6a5
Revises: 3525a8febceb
Create Date: 2026-11-26 17:07:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

# revision identifiers, used by Alembic.
revision: str = "dc70a9f1b6a5"
down_revision: str | Sequence[str] | None = "3525a8febceb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX_NAME = "ix_users_created_at"

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
        op.drop_index(INDEX_NAME, table_name="users", postgresql_concurrently=True)


def upgrade() -> None:
    """Build the index concurrently, outside any transaction."""
    with op.get_context().autocommit_block():
        drop_invalid_leftover()
        op.create_index(
            INDEX_NAME,
            "users",
            ["created_at"],
            postgresql_concurrently=True,
            if_not_exists=True,
        )


def downgrade() -> None:
    """Drop the index concurrently, outside any transaction."""
    with op.get_context().autocommit_block():
        op.drop_index(INDEX_NAME, table_name="users", postgresql_concurrently=True, if_exists=True)
