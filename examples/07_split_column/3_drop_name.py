"""split users.name, step 3 of 3 (contract): drop users.name

When to use: once release C runs everywhere and nothing reads or writes
``name`` (see 1_add_name_parts.py for the deploy order). Dropping it earlier
breaks the old code still running: the ORM names every mapped column in its
queries.

Before the drop, rows that have a ``name`` but no parts at all get split: an
old pod that wrote after revision 2 would otherwise lose its rows' names.
Release C never leaves both parts empty for a row with a name, so this never
overwrites its work.

Cost: one read of users for the catch-up (usually nothing to write), then the
drop: PostgreSQL drops the column in the catalog (a moment of ACCESS
EXCLUSIVE, no rewrite; the space is reclaimed as rows are rewritten). SQLite
copies the table through batch mode. Needs a live connection.

Dialects: PostgreSQL and SQLite.

Downgrade: adds ``name`` back, nullable, and rebuilds it from the parts in
committed batches. Values split by revision 2 come back exactly. A row written
since comes back as first and last name joined by one space (only the last
name: a leading space); on PostgreSQL a join longer than 100 characters makes
the downgrade fail ("value too long"). A rerun after a failure part way
continues. Deploy release B again after it.

Revision ID: 133b6bb458d6
Revises: 241a5cdc5c54
Create Date: 2026-11-26 17:16:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "133b6bb458d6"
down_revision: str | Sequence[str] | None = "241a5cdc5c54"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH_SIZE = 5000

NEXT_BATCH_END = sa.text(
    "SELECT max(id) FROM "
    "(SELECT id FROM users WHERE id > :after ORDER BY id LIMIT :batch_size) AS batch"
)
# Rows with a name and no parts: split them as revision 2 does.
SPLIT_MISSING_BATCH = {
    "postgresql": sa.text(
        "UPDATE users SET "
        "first_name = CASE WHEN strpos(name, ' ') > 0 "
        "THEN substr(name, 1, strpos(name, ' ') - 1) ELSE name END, "
        "last_name = CASE WHEN strpos(name, ' ') > 0 THEN substr(name, strpos(name, ' ') + 1) END "
        "WHERE id > :after AND id <= :through "
        "AND name IS NOT NULL AND first_name IS NULL AND last_name IS NULL"
    ),
    "sqlite": sa.text(
        "UPDATE users SET "
        "first_name = CASE WHEN instr(name, ' ') > 0 "
        "THEN substr(name, 1, instr(name, ' ') - 1) ELSE name END, "
        "last_name = CASE WHEN instr(name, ' ') > 0 THEN substr(name, instr(name, ' ') + 1) END "
        "WHERE id > :after AND id <= :through "
        "AND name IS NOT NULL AND first_name IS NULL AND last_name IS NULL"
    ),
}
JOIN_BATCH = sa.text(
    "UPDATE users SET name = CASE WHEN last_name IS NULL THEN first_name "
    "ELSE coalesce(first_name, '') || ' ' || last_name END "
    "WHERE id > :after AND id <= :through AND name IS NULL "
    "AND (first_name IS NOT NULL OR last_name IS NOT NULL)"
)


def run_batches(statement: sa.TextClause, batch_size: int = BATCH_SIZE) -> None:
    """Run ``statement`` over users one committed primary-key range at a time."""
    bind = op.get_bind()
    after = ""  # string ids: sorts before every id (use 0 for integer keys)
    with op.get_context().autocommit_block():
        while True:
            through = bind.execute(
                NEXT_BATCH_END, {"after": after, "batch_size": batch_size}
            ).scalar()
            if through is None:
                return
            bind.execute(statement, {"after": after, "through": through})
            after = through


def upgrade() -> None:
    """Split any row an old pod wrote late, then drop name."""
    run_batches(SPLIT_MISSING_BATCH[op.get_context().dialect.name])
    with op.batch_alter_table("users") as batch_op:
        # check: ignore[drop-column] contract step: release C no longer maps users.name
        batch_op.drop_column("name")


def downgrade() -> None:
    """Add name back and rebuild it from the parts in batches.

    The column is added only when missing: the ADD COLUMN commits before the
    batches, so a rerun after a failure part way finds it there.
    """
    columns = sa.inspect(op.get_bind()).get_columns("users")
    if not any(column["name"] == "name" for column in columns):
        op.add_column("users", sa.Column("name", sa.String(length=100), nullable=True))
    run_batches(JOIN_BATCH)
