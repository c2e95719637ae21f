"""split users.name (the full name) into first_name and last_name

When to use: one column becomes two, and the old values must come back on a
downgrade. Here ``users.name`` holds full names such as 'Ada King Lovelace'.

The split is lossless: ``first_name`` is everything before the first space,
``last_name`` everything after it (more spaces included), NULL when there is no
space. So ``first_name || ' ' || last_name`` (or ``first_name`` alone) gives
back the exact original, also for '', ' Ada' and double spaces.

Steps: add both columns; fill them in committed batches by primary key
(``autocommit_block``, plain SQL with bound parameters, no application models);
drop ``name``. Ship it with the release that reads the new columns: old code
still selecting ``name`` fails once it is dropped. For a rolling deploy, keep
``name`` and drop it in a later revision, as in
examples/01_rename_column_expand_contract/.

Rerunnable: the columns are added only when missing and a batch only touches
rows not yet split, so a rerun after a failure part way continues.

Cost: two catalog-only ADD COLUMNs; one short UPDATE per BATCH_SIZE rows; the
DROP COLUMN is catalog-only on PostgreSQL, a table copy on SQLite (batch mode).
Needs a live connection: ``--sql`` cannot page through rows.

Dialects: PostgreSQL (strpos) and SQLite (instr); the rest of the SQL is shared.

Downgrade: adds ``name`` back and rebuilds every value from the two parts, in
batches, then drops them. Values split by the upgrade come back exactly. A row
written after the upgrade comes back as first and last name joined by one
space (only the last name: a leading space); on PostgreSQL a join longer than
100 characters makes the downgrade fail ("value too long").

To use it: copy this file into alembic/versions and set down_revision to your
own head (``alembic heads``); here it is this project's head.

Revision ID: c1a956a5ec0b
Revises: 3525a8febceb
Create Date: 2026-11-26 17:14:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "c1a956a5ec0b"
down_revision: str | Sequence[str] | None = "3525a8febceb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH_SIZE = 5000

NEXT_BATCH_END = sa.text(
    "SELECT max(id) FROM "
    "(SELECT id FROM users WHERE id > :after ORDER BY id LIMIT :batch_size) AS batch"
)
# The same statement twice: the position of a substring is strpos() on
# PostgreSQL and instr() on SQLite.
SPLIT_BATCH = {
    "postgresql": sa.text(
        "UPDATE users SET "
        "first_name = CASE WHEN strpos(name, ' ') > 0 "
        "THEN substr(name, 1, strpos(name, ' ') - 1) ELSE name END, "
        "last_name = CASE WHEN strpos(name, ' ') > 0 "
        "THEN substr(name, strpos(name, ' ') + 1) END "
        "WHERE id > :after AND id <= :through AND name IS NOT NULL AND first_name IS NULL"
    ),
    "sqlite": sa.text(
        "UPDATE users SET "
        "first_name = CASE WHEN instr(name, ' ') > 0 "
        "THEN substr(name, 1, instr(name, ' ') - 1) ELSE name END, "
        "last_name = CASE WHEN instr(name, ' ') > 0 "
        "THEN substr(name, instr(name, ' ') + 1) END "
        "WHERE id > :after AND id <= :through AND name IS NOT NULL AND first_name IS NULL"
    ),
}
JOIN_BATCH = sa.text(
    "UPDATE users SET name = CASE WHEN last_name IS NULL THEN first_name "
    "ELSE coalesce(first_name, '') || ' ' || last_name END "
    "WHERE id > :after AND id <= :through AND name IS NULL "
    "AND (first_name IS NOT NULL OR last_name IS NOT NULL)"
)


def add_missing_columns(*names: str) -> None:
    """Add nullable name columns to users, skipping any an earlier run added."""
    existing = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("users")}
    for name in names:
        if name not in existing:
            op.add_column("users", sa.Column(name, sa.String(length=100), nullable=True))


def run_batches(statement: sa.TextClause, batch_size: int = BATCH_SIZE) -> None:
    """Run ``statement`` over users one primary-key range at a time."""
    bind = op.get_bind()
    after = ""  # string ids: sorts before every id (use 0 for integer keys)
    while True:
        through = bind.execute(NEXT_BATCH_END, {"after": after, "batch_size": batch_size}).scalar()
        if through is None:
            return
        bind.execute(statement, {"after": after, "through": through})
        after = through


def upgrade() -> None:
    """Split name into first_name and last_name, then drop name."""
    add_missing_columns("first_name", "last_name")
    # Commit the ADD COLUMNs; in the block every batch commits on its own.
    with op.get_context().autocommit_block():
        run_batches(SPLIT_BATCH[op.get_context().dialect.name])
    with op.batch_alter_table("users") as batch_op:
        # check: ignore[drop-column] the release reading first_name/last_name ships with it
        batch_op.drop_column("name")


def downgrade() -> None:
    """Rebuild name from first_name and last_name, then drop them."""
    add_missing_columns("name")
    with op.get_context().autocommit_block():
        run_batches(JOIN_BATCH)
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("last_name")
        batch_op.drop_column("first_name")
