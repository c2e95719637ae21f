"""split users.name, step 2 of 3 (migrate): fill first_name and last_name

When to use: after release A writes ``name`` and both parts (see
1_add_name_parts.py for the deploy order).

Sets the parts from ``name`` on every row where they do not match it, one
primary-key range per committed batch (``autocommit_block``). Then it passes
over the table again, until a pass changes nothing: old code that still ran
during the first pass may have inserted rows behind the cursor or renamed rows
already split, and the next pass catches them. Release A's rows already match
and are not touched. After MAX_PASSES passes that still change rows, it stops
with an error: old code is still writing; finish deploying release A and rerun.

Rerunnable: a batch only touches rows whose parts do not match, and a failure
keeps the batches already committed.

Cost: one short UPDATE per BATCH_SIZE rows per pass: row locks on that batch
only, no table lock. The second pass reads the table again and usually writes
nothing. Needs a live connection: ``--sql`` cannot page through rows.

Dialects: PostgreSQL (strpos, IS DISTINCT FROM) and SQLite (instr, IS NOT);
one statement each.

Downgrade: does nothing. The parts are harmless; revision 1's downgrade drops
them.

Revision ID: 241a5cdc5c54
Revises: c1a956a5ec0b
Create Date: 2026-11-26 17:15:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "241a5cdc5c54"
down_revision: str | Sequence[str] | None = "c1a956a5ec0b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH_SIZE = 5000
MAX_PASSES = 5

NEXT_BATCH_END = sa.text(
    "SELECT max(id) FROM "
    "(SELECT id FROM users WHERE id > :after ORDER BY id LIMIT :batch_size) AS batch"
)
# The same statement twice: the position of a substring is strpos() on
# PostgreSQL and instr() on SQLite, and a NULL-safe "differs" is IS DISTINCT
# FROM on PostgreSQL and IS NOT on SQLite.
SPLIT_BATCH = {
    "postgresql": sa.text(
        "UPDATE users SET "
        "first_name = CASE WHEN strpos(name, ' ') > 0 "
        "THEN substr(name, 1, strpos(name, ' ') - 1) ELSE name END, "
        "last_name = CASE WHEN strpos(name, ' ') > 0 THEN substr(name, strpos(name, ' ') + 1) END "
        "WHERE id > :after AND id <= :through AND ("
        "first_name IS DISTINCT FROM CASE WHEN strpos(name, ' ') > 0 "
        "THEN substr(name, 1, strpos(name, ' ') - 1) ELSE name END "
        "OR last_name IS DISTINCT FROM CASE WHEN strpos(name, ' ') > 0 "
        "THEN substr(name, strpos(name, ' ') + 1) END)"
    ),
    "sqlite": sa.text(
        "UPDATE users SET "
        "first_name = CASE WHEN instr(name, ' ') > 0 "
        "THEN substr(name, 1, instr(name, ' ') - 1) ELSE name END, "
        "last_name = CASE WHEN instr(name, ' ') > 0 THEN substr(name, instr(name, ' ') + 1) END "
        "WHERE id > :after AND id <= :through AND ("
        "first_name IS NOT CASE WHEN instr(name, ' ') > 0 "
        "THEN substr(name, 1, instr(name, ' ') - 1) ELSE name END "
        "OR last_name IS NOT CASE WHEN instr(name, ' ') > 0 "
        "THEN substr(name, instr(name, ' ') + 1) END)"
    ),
}


def split_pass(bind: sa.Connection, batch_size: int = BATCH_SIZE) -> int:
    """One pass over users by primary-key range; returns the rows it changed."""
    split = SPLIT_BATCH[bind.dialect.name]
    changed = 0
    after = ""  # string ids: sorts before every id (use 0 for integer keys)
    while True:
        through = bind.execute(NEXT_BATCH_END, {"after": after, "batch_size": batch_size}).scalar()
        if through is None:
            return changed
        changed += bind.execute(split, {"after": after, "through": through}).rowcount
        after = through


def upgrade() -> None:
    """Split name into the parts wherever they differ, until a pass finds nothing."""
    with op.get_context().autocommit_block():  # every batch commits on its own
        for _ in range(MAX_PASSES):
            if split_pass(op.get_bind()) == 0:
                return
    raise RuntimeError(
        f"users.name still changed after {MAX_PASSES} passes: old code is still "
        "writing it. Finish deploying the release that writes both, then rerun."
    )


def downgrade() -> None:
    """Nothing to undo: revision 1's downgrade drops the parts."""
