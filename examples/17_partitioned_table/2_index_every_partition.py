"""index events.kind: each partition concurrently, then attach to the parent's index

When to use: a new index on a big, busy partitioned table. A plain
``CREATE INDEX ix ON events (kind)`` takes SHARE on events and on every
partition for the whole build: reads go on, but every INSERT, UPDATE and
DELETE on events waits until the last partition is indexed. And
``CREATE INDEX CONCURRENTLY ON events`` is refused: "cannot create index on
partitioned table "events" concurrently" (PostgreSQL 18).

Steps, all in this revision:

1. ``CREATE INDEX IF NOT EXISTS ix_events_kind ON ONLY events (kind)``: the
   parent's index alone, created INVALID, with no partition's index under it.
   A catalog change: a moment of SHARE on events only (no partition is locked
   or read). SHARE still conflicts with writes: it waits for open write
   transactions made through events (a write straight into a partition holds
   only ACCESS SHARE on events, and is not waited for), and writes through
   events queue behind it meanwhile; lock_timeout bounds that wait. New
   partitions created with ``PARTITION OF`` get their index from it from now on.
2. For each partition, in an autocommit block: drop an INVALID leftover of a
   failed concurrent build, then ``CREATE INDEX CONCURRENTLY IF NOT EXISTS``
   on that partition (recipe 03, one partition at a time).
3. ``ALTER INDEX ix_events_kind ATTACH PARTITION ix_<partition>_kind`` for
   each. When every partition has its index attached, PostgreSQL marks the
   parent's index valid by itself (``pg_index.indisvalid``); the upgrade checks
   that and fails if a partition was missed.

The partitions are read from ``pg_inherits`` when it runs, so it needs a live
connection (no ``--sql``). A partition that is itself partitioned would need
steps 1-3 one level down: this recipe refuses such a partition.

Cost: per partition, what recipe 03 costs: SHARE UPDATE EXCLUSIVE on that
partition (writes go on), two scans of it, and a wait for older transactions
anywhere in the database. The ON ONLY create and each ATTACH are catalog
changes. An ATTACH takes ACCESS SHARE on events and on the partition (it
blocks no reads or writes), SHARE UPDATE EXCLUSIVE on ix_events_kind and ACCESS
EXCLUSIVE on the partition's new index, for a moment. Reruns are safe: each
step skips what is done.

Dialects: PostgreSQL only (11+ for ON ONLY and ATTACH on an index).

Downgrade: ``DROP INDEX ix_events_kind`` drops the parent's index and every
partition's index with it: ACCESS EXCLUSIVE on events and on each partition for
a moment (a partitioned index cannot be dropped CONCURRENTLY). Only the index
is lost.

Revision ID: a0f61bc2ac63
Revises: 908f819b3ccc
Create Date: 2026-11-27 10:01:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "a0f61bc2ac63"
down_revision: str | Sequence[str] | None = "908f819b3ccc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARENT_INDEX = "ix_events_kind"

# INVALID until every partition's index is attached; CONCURRENTLY is refused here.
CREATE_PARENT_INDEX = "CREATE INDEX IF NOT EXISTS ix_events_kind ON ONLY events (kind)"
PARTITIONS = sa.text(
    "SELECT c.relname, c.relkind = 'p' FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
    "WHERE i.inhparent = 'events'::regclass ORDER BY c.relname"
)
# NULL: no such index; true: an INVALID leftover of a failed concurrent build.
INDEX_IS_INVALID = sa.text(
    "SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass(:index_name)"
)


def partition_index(partition: str) -> str:
    """The name of a partition's own index (keep it under 63 bytes)."""
    return f"ix_{partition}_kind"


def index_partitions(bind: sa.Connection) -> None:
    """Build each partition's index concurrently and attach it to the parent's index."""
    for partition, partitioned in bind.execute(PARTITIONS).all():
        if partitioned:
            raise RuntimeError(f"{partition} is partitioned itself: index it one level down")
        name = partition_index(partition)
        if bind.execute(INDEX_IS_INVALID, {"index_name": name}).scalar():
            op.drop_index(name, table_name=partition, postgresql_concurrently=True)
        op.create_index(name, partition, ["kind"], postgresql_concurrently=True, if_not_exists=True)
        # Attaching an index that is attached already does nothing: reruns are safe.
        quoted = bind.dialect.identifier_preparer.quote(name)  # a name cannot be bound
        # check: ignore[sql-string-formatting]  PARENT_INDEX is a constant; the partition's, quoted
        op.execute(f"ALTER INDEX {PARENT_INDEX} ATTACH PARTITION {quoted}")


def upgrade() -> None:
    """The parent's index ON ONLY, then each partition's, then attach them."""
    # check: ignore[index-not-concurrent]  ON ONLY a partitioned table builds nothing: catalog only
    op.execute(CREATE_PARENT_INDEX)
    with op.get_context().autocommit_block():
        bind = op.get_bind()
        index_partitions(bind)
        if bind.execute(INDEX_IS_INVALID, {"index_name": PARENT_INDEX}).scalar():
            raise RuntimeError(f"{PARENT_INDEX} is still invalid: a partition has no index")


def downgrade() -> None:
    """Drop the parent's index; the partitions' indexes go with it."""
    op.drop_index(PARENT_INDEX, table_name="events")
