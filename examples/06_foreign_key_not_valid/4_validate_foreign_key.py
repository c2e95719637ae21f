"""projects.reviewer_id, step 4 of 4: VALIDATE the foreign key

When to use: after revision 3, in a later revision: in its own transaction, so
the lock revision 3 took is long gone when the scan starts.

PostgreSQL: ``VALIDATE CONSTRAINT`` checks the existing rows under SHARE UPDATE
EXCLUSIVE on projects and ROW SHARE on users: reads and writes go on during the
scan. It fails on a row whose reviewer does not exist ('insert or update on
table "projects" violates foreign key constraint'); find those first:
``SELECT p.id FROM projects p LEFT JOIN users u ON u.id = p.reviewer_id
WHERE p.reviewer_id IS NOT NULL AND u.id IS NULL``, fix them, and rerun.

SQLite: nothing to do; revision 3 already rebuilt the table with the key.

Cost: one scan of projects, plus an index lookup in users per row, without
blocking writers.

Dialects: PostgreSQL; a no-op on SQLite.

Downgrade: does nothing. A validated constraint cannot be made NOT VALID again,
and it needs no undoing: revision 3's downgrade drops it.

Revision ID: ff63d2d4eb5c
Revises: 19a75aa0f8ce
Create Date: 2026-11-26 17:13:00.000000

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "ff63d2d4eb5c"
down_revision: str | Sequence[str] | None = "19a75aa0f8ce"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Check the rows that predate the foreign key, without blocking writes."""
    if op.get_context().dialect.name == "postgresql":
        op.execute("ALTER TABLE projects VALIDATE CONSTRAINT fk_projects_reviewer_id_users")


def downgrade() -> None:
    """Nothing to undo: revision 3's downgrade drops the constraint."""
