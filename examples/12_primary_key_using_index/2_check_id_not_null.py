"""Primary key on audit_events.id, step 1 of 2: prove id has no NULL

When to use: before a primary key goes onto an existing column that is still
nullable. A primary key makes its columns NOT NULL, and without proof
PostgreSQL scans the whole table for NULLs while it holds ACCESS EXCLUSIVE.

Deploy order:

1. The release that always writes ``id`` (and a unique ``event_key``).
2. This revision: ``CHECK (id IS NOT NULL) NOT VALID``, then VALIDATE.
3. Revision 3 (3_add_constraints_using_index.py): build the unique indexes
   concurrently and attach them as the primary key and the unique constraint.

Both revisions may run in one ``alembic upgrade``.

PostgreSQL: the CHECK is added NOT VALID in the revision's transaction (a
moment of ACCESS EXCLUSIVE, no scan; new rows are checked from then on), then
VALIDATE runs in ``autocommit_block()``, which first commits the ADD: the scan
holds SHARE UPDATE EXCLUSIVE, so reads and writes go on. VALIDATE fails with
'check constraint "ck_audit_events_id_not_null" ... is violated by some row'
while a NULL is left; find them with ``SELECT ctid, * FROM audit_events WHERE
id IS NULL``, give them ids (or delete them), and rerun: the committed CHECK is
kept, not added twice.

SQLite: nothing to do here. Revision 3 copies the table with the key.

Cost: PostgreSQL: a moment of ACCESS EXCLUSIVE, then one scan that blocks
no reads or writes.

Dialects: PostgreSQL (a no-op on SQLite).

Downgrade: drops the check. No data is lost.

Revision ID: 84d9f8178547
Revises: e9375b3eaca2
Create Date: 2026-11-30 13:01:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

# revision identifiers, used by Alembic.
revision: str = "84d9f8178547"
down_revision: str | Sequence[str] | None = "e9375b3eaca2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# op.f(): the name is final. Without it, models.py's naming convention
# ("ck_%(table_name)s_%(constraint_name)s") would prefix it a second time.
CHECK_NAME = "ck_audit_events_id_not_null"

CHECK_EXISTS = sa.text(
    "SELECT count(*) FROM pg_constraint "
    "WHERE conrelid = 'audit_events'::regclass AND conname = :name"
)


def check_missing() -> bool:
    """True unless a run that failed at VALIDATE has committed the check already."""
    if context.is_offline_mode():
        return True
    return op.get_bind().execute(CHECK_EXISTS, {"name": CHECK_NAME}).scalar() == 0


def upgrade() -> None:
    """Add the check NOT VALID, then validate it without blocking writes (PostgreSQL)."""
    if op.get_context().dialect.name != "postgresql":
        return
    if check_missing():
        op.create_check_constraint(
            op.f(CHECK_NAME), "audit_events", "id IS NOT NULL", postgresql_not_valid=True
        )
    with op.get_context().autocommit_block():  # commits the ADD; the scan commits on its own
        op.execute("ALTER TABLE audit_events VALIDATE CONSTRAINT ck_audit_events_id_not_null")


def downgrade() -> None:
    """Drop the check."""
    if op.get_context().dialect.name == "postgresql":
        op.drop_constraint(op.f(CHECK_NAME), "audit_events", type_="check")
