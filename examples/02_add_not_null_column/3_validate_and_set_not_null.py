"""NOT NULL projects.slug, step 3 of 3: validate, SET NOT NULL, drop the check

When to use: after revision 2 (see 1_add_nullable_column.py for the deploy
order). It must be a later revision than the NOT VALID check: a VALIDATE in the
transaction that added the check would keep that ACCESS EXCLUSIVE lock for the
whole scan.

PostgreSQL, in two steps:

1. ``VALIDATE CONSTRAINT`` inside ``autocommit_block()``: it scans the table
   under SHARE UPDATE EXCLUSIVE, so reads and writes go on, and it commits on
   its own. Fails with "check constraint ... is violated by some row" if a
   NULL is left; fill it (``SELECT id FROM projects WHERE slug IS NULL``) and
   rerun. On a rerun it is a no-op: the constraint is already valid.
2. In the revision's transaction, ``SET NOT NULL`` and the DROP of the check.
   Since PostgreSQL 12 a valid ``CHECK (slug IS NOT NULL)`` proves there is no
   NULL, so it skips its scan (the server logs, at DEBUG1, "existing
   constraints on column ... are sufficient to prove that it does not contain
   nulls"). It still needs ACCESS EXCLUSIVE for a moment, which waits behind
   every running query on projects and may hit ``lock_timeout``. Had the
   VALIDATE shared this transaction, that timeout would roll the whole scan
   back; committed first, the retry needs only the brief lock.

SQLite: batch mode copies the table with the column NOT NULL. It fails if a
NULL is left.

Cost: PostgreSQL: one scan under SHARE UPDATE EXCLUSIVE (writes go on), then a
moment of ACCESS EXCLUSIVE for SET NOT NULL and the DROP CONSTRAINT. A failure
after the VALIDATE leaves the constraint validated, the column nullable and
alembic_version at revision 2: rerun. SQLite: a
copy of projects under the database's write lock.

Dialects: PostgreSQL (12+ for the skipped scan) and SQLite. PostgreSQL 18 can
also add the NOT NULL itself as NOT VALID (``ADD CONSTRAINT ... NOT NULL slug
NOT VALID``) and VALIDATE it later, with no CHECK to drop; the CHECK form here
works from PostgreSQL 12 on.

Downgrade: makes the column nullable again; on PostgreSQL it puts the check
back, NOT VALID (no scan), as revision 2 left it. No data is lost.

Revision ID: 0d523f073c09
Revises: 4a75cd0a77fa
Create Date: 2026-11-26 17:06:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0d523f073c09"
down_revision: str | Sequence[str] | None = "4a75cd0a77fa"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# op.f(): the name is final. Without it, models.py's naming convention
# ("ck_%(table_name)s_%(constraint_name)s") would prefix it a second time.
CHECK_NAME = "ck_projects_slug_not_null"


def upgrade() -> None:
    """Make projects.slug NOT NULL without a long lock."""
    if op.get_context().dialect.name == "postgresql":
        with op.get_context().autocommit_block():  # the scan commits, whatever comes next
            op.execute("ALTER TABLE projects VALIDATE CONSTRAINT ck_projects_slug_not_null")
        op.alter_column("projects", "slug", existing_type=sa.String(length=100), nullable=False)
        op.drop_constraint(op.f(CHECK_NAME), "projects", type_="check")
    else:
        with op.batch_alter_table("projects") as batch_op:
            batch_op.alter_column("slug", existing_type=sa.String(length=100), nullable=False)


def downgrade() -> None:
    """Make projects.slug nullable again, with revision 2's NOT VALID check on PostgreSQL."""
    if op.get_context().dialect.name == "postgresql":
        op.alter_column("projects", "slug", existing_type=sa.String(length=100), nullable=True)
        op.create_check_constraint(
            op.f(CHECK_NAME), "projects", "slug IS NOT NULL", postgresql_not_valid=True
        )
    else:
        with op.batch_alter_table("projects") as batch_op:
            batch_op.alter_column("slug", existing_type=sa.String(length=100), nullable=True)
