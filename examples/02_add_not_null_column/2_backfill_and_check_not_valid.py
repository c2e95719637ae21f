"""NOT NULL projects.slug, step 2 of 3: backfill, then CHECK ... NOT VALID

When to use: once the release that writes ``slug`` runs everywhere (see
1_add_nullable_column.py for the deploy order).

The backfill sets ``slug = lower(replace(name, ' ', '-'))`` where it is still
NULL, one primary-key range per committed batch (``autocommit_block``), so no
lock is held across batches and a rerun continues where a failure stopped.

Then, on PostgreSQL, ``CHECK (slug IS NOT NULL) NOT VALID``: from its commit on,
every insert and update is checked, but the existing rows are not scanned.

Cost: the backfill takes row locks one batch at a time. The NOT VALID check
takes ACCESS EXCLUSIVE on projects for a moment (catalog only). The backfill
needs a live connection: ``--sql`` cannot page through rows.

Dialects: PostgreSQL and SQLite. SQLite has no NOT VALID constraints; it gets
its NOT NULL in revision 3, through batch mode.

Downgrade: drops the check (PostgreSQL). The backfilled slugs stay: revision 1's
downgrade drops the column.

Revision ID: 4a75cd0a77fa
Revises: fee2ea7d9288
Create Date: 2026-11-26 17:05:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "4a75cd0a77fa"
down_revision: str | Sequence[str] | None = "fee2ea7d9288"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH_SIZE = 5000
# op.f(): the name is final. Without it, models.py's naming convention
# ("ck_%(table_name)s_%(constraint_name)s") would prefix it a second time.
CHECK_NAME = "ck_projects_slug_not_null"

NEXT_BATCH_END = sa.text(
    "SELECT max(id) FROM "
    "(SELECT id FROM projects WHERE id > :after ORDER BY id LIMIT :batch_size) AS batch"
)
FILL_BATCH = sa.text(
    "UPDATE projects SET slug = lower(replace(name, ' ', '-')) "
    "WHERE id > :after AND id <= :through AND slug IS NULL"
)


def fill_slugs(bind: sa.Connection, batch_size: int = BATCH_SIZE) -> None:
    """Compute the missing slugs, one committed batch at a time."""
    after = ""  # string ids: sorts before every id (use 0 for integer keys)
    while True:
        through = bind.execute(NEXT_BATCH_END, {"after": after, "batch_size": batch_size}).scalar()
        if through is None:
            return
        bind.execute(FILL_BATCH, {"after": after, "through": through})
        after = through


def upgrade() -> None:
    """Backfill in committed batches; then, on PostgreSQL, add the check NOT VALID."""
    with op.get_context().autocommit_block():
        fill_slugs(op.get_bind())
    if op.get_context().dialect.name == "postgresql":
        op.create_check_constraint(
            op.f(CHECK_NAME), "projects", "slug IS NOT NULL", postgresql_not_valid=True
        )


def downgrade() -> None:
    """Drop the check; the slugs stay until revision 1's downgrade."""
    if op.get_context().dialect.name == "postgresql":
        op.drop_constraint(op.f(CHECK_NAME), "projects", type_="check")
