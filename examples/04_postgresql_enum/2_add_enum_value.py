"""projects.status: add the value 'paused'

When to use: a new value for an existing enum. Autogenerate does not see enum
value changes; write this revision by hand.

PostgreSQL: ``ALTER TYPE ... ADD VALUE IF NOT EXISTS 'paused' BEFORE
'archived'`` in ``op.get_context().autocommit_block()``. Since PostgreSQL 12 the
statement may run in a transaction, but the new value cannot be used until that
transaction commits ("unsafe use of new value"): the autocommit block commits it
at once, so the code after it can use it. IF NOT EXISTS makes a rerun harmless.
SQLite: batch mode swaps the CHECK constraint for one that allows 'paused'.

Cost: PostgreSQL: a catalog change, no table scan, a brief lock on the type.
SQLite: batch mode copies the table.

Dialects: PostgreSQL and SQLite.

Downgrade, data lost: every project with status 'paused' becomes 'active'.
PostgreSQL cannot drop a value from an enum, so the downgrade builds the old
type again and converts the column to it, mapping 'paused' to 'active' in the
same statement: ``ALTER COLUMN ... TYPE`` rewrites projects under ACCESS
EXCLUSIVE (no reads, no writes) for the length of the rewrite. SQLite updates
the rows in one bounded UPDATE, then swaps the CHECK back through batch mode.

Revision ID: 77c6a9003100
Revises: 06b9083dd417
Create Date: 2026-11-26 17:09:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "77c6a9003100"
down_revision: str | Sequence[str] | None = "06b9083dd417"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# op.f(): the name is final. Without it, models.py's naming convention
# ("ck_%(table_name)s_%(constraint_name)s") would prefix it a second time.
CHECK_NAME = "ck_projects_status"

# SQLite only: on PostgreSQL the type change in downgrade() maps the value in
# its USING clause, in the same rewrite.
REPLACE_STATUS = sa.text("UPDATE projects SET status = :kept WHERE status = :removed")


def upgrade() -> None:
    """Allow status 'paused'."""
    if op.get_context().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.execute(
                "ALTER TYPE project_status ADD VALUE IF NOT EXISTS 'paused' BEFORE 'archived'"
            )
    else:
        with op.batch_alter_table("projects") as batch_op:
            batch_op.drop_constraint(op.f(CHECK_NAME), type_="check")
            batch_op.create_check_constraint(
                op.f(CHECK_NAME), "status IN ('active', 'paused', 'archived')"
            )


def downgrade() -> None:
    """Turn 'paused' projects 'active', then take the value away."""
    if op.get_context().dialect.name == "postgresql":
        # An enum value cannot be dropped: build the previous type and convert,
        # mapping 'paused' to 'active' in the same rewrite.
        op.execute("ALTER TYPE project_status RENAME TO project_status_old")
        op.execute("CREATE TYPE project_status AS ENUM ('active', 'archived')")
        op.execute("ALTER TABLE projects ALTER COLUMN status DROP DEFAULT")
        op.execute(
            "ALTER TABLE projects ALTER COLUMN status TYPE project_status USING "
            "(CASE WHEN status::text = 'paused' THEN 'active' ELSE status::text END)"
            "::project_status"
        )
        op.execute("ALTER TABLE projects ALTER COLUMN status SET DEFAULT 'active'")
        op.execute("DROP TYPE project_status_old")
    else:
        op.execute(REPLACE_STATUS.bindparams(kept="active", removed="paused"))
        with op.batch_alter_table("projects") as batch_op:
            batch_op.drop_constraint(op.f(CHECK_NAME), type_="check")
            batch_op.create_check_constraint(op.f(CHECK_NAME), "status IN ('active', 'archived')")
