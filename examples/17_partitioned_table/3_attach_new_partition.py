"""events_2021: a standalone table with a matching CHECK, then ATTACH PARTITION

When to use: a new partition (next year's) on a partitioned table that is
busy. ``CREATE TABLE events_2021 PARTITION OF events ...`` takes ACCESS
EXCLUSIVE on events: every read and write of every partition queues behind it,
and behind any long query it waits for. ``ATTACH PARTITION`` takes only SHARE
UPDATE EXCLUSIVE on events (PostgreSQL 12+): reads and writes go on.

Steps, in this revision's transaction:

1. ``CREATE TABLE events_2021`` with events' columns, its primary key, and a
   CHECK that states the partition's bounds (and NOT NULL on ``created_at``).
2. The table's own ``ix_events_2021_kind``, matching revision 2's index, so
   ATTACH adopts it instead of building one under its lock.
3. ``ALTER TABLE events ATTACH PARTITION events_2021 FOR VALUES FROM ... TO``.
   The CHECK proves the bounds, so ATTACH skips its validation scan of
   events_2021 (the server's DEBUG1 says 'partition constraint for table
   "events_2021" is implied by existing constraints'). Without it the scan runs
   under ACCESS EXCLUSIVE on events_2021, which matters when it was loaded
   before attaching: load it between two revisions (create, then attach).
4. Drop the CHECK: the partition bound enforces the same from now on.

A DEFAULT partition, if events had one, would be scanned for rows of 2021
under ACCESS EXCLUSIVE on it, whatever CHECK events_2021 carries (a CHECK on
the default partition that excludes the new range skips that scan).

Cost: a moment of SHARE UPDATE EXCLUSIVE on events (waits for DDL and VACUUM on
events, blocks no reads or writes) and ACCESS EXCLUSIVE on the new, empty
events_2021 until commit. No rewrite, no scan.

Dialects: PostgreSQL only (12+ for ATTACH's weaker lock on the parent).

Downgrade: ``DETACH PARTITION ... CONCURRENTLY`` (PostgreSQL 14+; not in a
transaction block, so in an autocommit block, and refused while events has a
DEFAULT partition), then ``DROP TABLE events_2021``: every event of 2021 is
lost. A detach interrupted half way is finished with ``DETACH ... FINALIZE``.

Revision ID: b2bb5dbf5340
Revises: a0f61bc2ac63
Create Date: 2026-11-27 10:02:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "b2bb5dbf5340"
down_revision: str | Sequence[str] | None = "a0f61bc2ac63"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CREATE_PARTITION_TABLE = """
CREATE TABLE events_2021 (
    id bigint NOT NULL,
    created_at timestamptz NOT NULL,
    kind varchar(20) NOT NULL,
    payload text,
    CONSTRAINT pk_events_2021 PRIMARY KEY (id, created_at),
    CONSTRAINT ck_events_2021_bounds CHECK (
        created_at >= '2021-01-01 00:00+00' AND created_at < '2022-01-01 00:00+00'
    )
)
"""
# Bounds are constants: a time zone in each, so the session's TimeZone cannot move them.
ATTACH = (
    "ALTER TABLE events ATTACH PARTITION events_2021 "
    "FOR VALUES FROM ('2021-01-01 00:00+00') TO ('2022-01-01 00:00+00')"
)
# NULL: not a partition (any more); true: a concurrent detach stopped half way.
DETACH_PENDING = sa.text(
    "SELECT inhdetachpending FROM pg_inherits "
    "WHERE inhrelid = to_regclass('events_2021') AND inhparent = 'events'::regclass"
)


def upgrade() -> None:
    """Create the table with a CHECK of its bounds and its index, then attach it."""
    op.execute(CREATE_PARTITION_TABLE)
    # A new, empty table: no one waits for this build.
    op.create_index("ix_events_2021_kind", "events_2021", ["kind"])
    op.execute(ATTACH)
    op.drop_constraint(op.f("ck_events_2021_bounds"), "events_2021", type_="check")


def downgrade() -> None:
    """Detach concurrently, then drop the table and its rows."""
    with op.get_context().autocommit_block():
        pending = op.get_bind().execute(DETACH_PENDING).scalar()
        if pending:
            op.execute("ALTER TABLE events DETACH PARTITION events_2021 FINALIZE")
        elif pending is not None:
            op.execute("ALTER TABLE events DETACH PARTITION events_2021 CONCURRENTLY")
    op.execute("DROP TABLE IF EXISTS events_2021")
