"""Primary key on audit_events.id, step 2 of 2: unique indexes, then the constraints

When to use: after revision 2 (2_check_id_not_null.py), to give an existing,
busy table its primary key and a unique constraint. A plain ``ADD PRIMARY
KEY`` or ``ADD UNIQUE`` (``op.create_primary_key``,
``op.create_unique_constraint``) builds its index, and a primary key also
checks for NULLs, while ACCESS EXCLUSIVE blocks every read and write of the
table.

PostgreSQL, in two parts:

1. In ``autocommit_block()``: ``CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS``
   on ``id`` and on ``event_key``, after dropping an INVALID leftover of either
   name (as recipe 03 does). The build blocks no reads or writes. It fails on a
   duplicate ('could not create unique index ... Key (event_key)=(...) is
   duplicated') and leaves that index INVALID; the revision stays unapplied.
   Find the duplicates with ``SELECT event_key, count(*) FROM audit_events
   GROUP BY event_key HAVING count(*) > 1`` (the same with ``id``), remove
   them, and rerun: a valid index is kept, the INVALID one rebuilt.
2. In the revision's transaction: ``ADD CONSTRAINT pk_audit_events PRIMARY
   KEY USING INDEX ...`` and ``ADD CONSTRAINT uq_audit_events_event_key UNIQUE
   USING INDEX ...``, then the DROP of revision 2's check. Each takes ACCESS
   EXCLUSIVE for a moment: no index build, and no NULL scan, because the
   validated check proves id has no NULL (the server logs, at DEBUG1,
   "existing constraints on column ... are sufficient to prove that it does
   not contain nulls"). The primary key makes id NOT NULL itself. Each index
   is renamed to its constraint's name (PostgreSQL's NOTICE: "ALTER TABLE /
   ADD CONSTRAINT USING INDEX will rename index ..."). Behind a long query on
   audit_events this waits and may hit ``lock_timeout``: the indexes stay
   built, so the rerun needs only the brief lock.

SQLite: batch mode copies the table with id NOT NULL, the primary key and
the unique constraint. It fails, changing nothing, on a NULL id or a
duplicate.

Cost: PostgreSQL: two index builds under SHARE UPDATE EXCLUSIVE (each scans
the table twice and waits for older transactions in the database, as recipe 03
says), then a moment of ACCESS EXCLUSIVE. SQLite: a copy of audit_events under
the database's write lock.

Dialects: PostgreSQL (12+ for the skipped NULL scan) and SQLite.

Downgrade: drops the unique constraint and the primary key; their indexes go
with them (dropping a primary key fails while a foreign key references it).
id becomes nullable again; on PostgreSQL revision 2's check comes back, added
NOT VALID and validated in an autocommit block (a scan that blocks no writes).
No data is lost.

Revision ID: f25cfde8ec72
Revises: 84d9f8178547
Create Date: 2026-11-30 13:02:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

# revision identifiers, used by Alembic.
revision: str = "f25cfde8ec72"
down_revision: str | Sequence[str] | None = "84d9f8178547"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PRIMARY_KEY = "pk_audit_events"
UNIQUE = "uq_audit_events_event_key"
# Built under these names; USING INDEX renames each to its constraint's name.
INDEXES = {"ix_audit_events_id_unique": "id", "ix_audit_events_event_key_unique": "event_key"}
# op.f(): the name is final (see revision 2).
CHECK_NAME = "ck_audit_events_id_not_null"

# NULL: no such index; true: an INVALID leftover of a failed concurrent build.
INDEX_IS_INVALID = sa.text(
    "SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass(:index_name)"
)


def drop_invalid_leftover(index_name: str) -> None:
    """Drop an INVALID index of this name, left by a failed concurrent build."""
    if context.is_offline_mode():
        return
    invalid = op.get_bind().execute(INDEX_IS_INVALID, {"index_name": index_name}).scalar()
    if invalid:
        op.drop_index(index_name, table_name="audit_events", postgresql_concurrently=True)


def upgrade() -> None:
    """Build the unique indexes concurrently, then attach them as constraints."""
    if op.get_context().dialect.name != "postgresql":
        with op.batch_alter_table("audit_events") as batch_op:
            batch_op.alter_column("id", existing_type=sa.BigInteger(), nullable=False)
            batch_op.create_primary_key(PRIMARY_KEY, ["id"])
            batch_op.create_unique_constraint(UNIQUE, ["event_key"])
        return
    with op.get_context().autocommit_block():
        for index_name, column in INDEXES.items():
            drop_invalid_leftover(index_name)
            op.create_index(
                index_name,
                "audit_events",
                [column],
                unique=True,
                postgresql_concurrently=True,
                if_not_exists=True,
            )
    op.execute(
        "ALTER TABLE audit_events ADD CONSTRAINT pk_audit_events "
        "PRIMARY KEY USING INDEX ix_audit_events_id_unique"
    )
    op.execute(
        "ALTER TABLE audit_events ADD CONSTRAINT uq_audit_events_event_key "
        "UNIQUE USING INDEX ix_audit_events_event_key_unique"
    )
    op.drop_constraint(op.f(CHECK_NAME), "audit_events", type_="check")


def downgrade() -> None:
    """Drop both constraints (and their indexes); id nullable again, with revision 2's check."""
    if op.get_context().dialect.name != "postgresql":
        with op.batch_alter_table("audit_events") as batch_op:
            batch_op.drop_constraint(UNIQUE, type_="unique")
            batch_op.drop_constraint(PRIMARY_KEY, type_="primary")
            batch_op.alter_column("id", existing_type=sa.BigInteger(), nullable=True)
        return
    op.drop_constraint(UNIQUE, "audit_events", type_="unique")
    op.drop_constraint(PRIMARY_KEY, "audit_events", type_="primary")
    op.alter_column("audit_events", "id", existing_type=sa.BigInteger(), nullable=True)
    op.create_check_constraint(
        op.f(CHECK_NAME), "audit_events", "id IS NOT NULL", postgresql_not_valid=True
    )
    with op.get_context().autocommit_block():  # commits the drops; the scan blocks no writes
        op.execute("ALTER TABLE audit_events VALIDATE CONSTRAINT ck_audit_events_id_not_null")
