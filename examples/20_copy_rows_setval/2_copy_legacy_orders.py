"""Copy legacy_orders into orders with their ids, the id counter moved first

When to use: a data migration that inserts rows with their primary-key values
(merging a legacy table, moving rows to a new table, restoring an archive).
On PostgreSQL explicit ids do not move the target's sequence (serial or
identity): the application's next INSERT gets an id the copy already used and
fails with "duplicate key value violates unique constraint".

Before the copy, the counter goes past every id in both tables, so the
application's inserts during the copy and after it land above every legacy
id:

* PostgreSQL: ``LOCK TABLE orders IN SHARE MODE`` (inserts wait, reads go on)
  for one ``setval`` that sets the next id to the largest of the sequence's
  next value, max(orders.id) + 1 and max(legacy_orders.id) + 1, so it never
  moves back and uses up no id; committed at once. An insert waits for the
  lock before it draws an id, so none is drawn between the read and setval.
  That holds with the sequence's CACHE 1 (the default; ``pg_sequences.cache_size``):
  with CACHE 20 each session keeps handing out the ids it has cached, below
  the setval, lock or not. The revision then stops before anything: run
  ``ALTER SEQUENCE orders_id_seq CACHE 1`` (on PostgreSQL 18 every session
  drops its cached ids when it next draws one; the manual promises less, so
  on other versions restart the application's connections too), rerun, and
  set the cache back afterwards if you want it.
* SQLite has no sequence: the next id is max(id) + 1 (AUTOINCREMENT: also
  above ``sqlite_sequence``, which explicit ids move). Copying the row with
  the largest legacy id first does it (right after the check below).

Then, each statement committed on its own (``autocommit_block``):

* A legacy id that orders holds with other data stops the revision before
  anything is copied (that legacy row would be lost). This check and the
  batch check below compare every column the two tables share: list each of
  yours (a ``json`` column cannot be compared with ``IS DISTINCT FROM``:
  compare it as jsonb or ``::text``).
* The copy, in batches by legacy id: ``OVERRIDING SYSTEM VALUE`` because
  orders.id is GENERATED ALWAYS; ``ON CONFLICT (id) DO NOTHING RETURNING id``
  so a rerun skips the rows already there. A legacy row of the batch that was
  neither copied nor is in orders with the same data stops the revision: a
  skipped row never vanishes silently.
* Every legacy id must be in orders and, on PostgreSQL, below the sequence's
  next value (legacy rows added during the copy), or the revision fails.

A rerun after a failure part way copies the rest. If the application changed
a copied order meanwhile, the first check stops the rerun too: it cannot tell
that row from another order holding the id. Compare the ids it lists; rerun
once legacy_orders holds the data to keep.

Deploy order: the release that no longer writes legacy_orders ships first:
the checks assume it stops changing. Drop legacy_orders in a later revision.

Cost: a moment of SHARE lock on orders (it waits for open writes, and
inserts wait behind it, up to lock_timeout); a join of both tables for the
first check and an anti-join for the last; per batch one short INSERT under
ROW EXCLUSIVE and one range read. Needs a live connection.

Dialects: PostgreSQL and SQLite 3.39+ (``IS DISTINCT FROM``), where orders.id
is ``INTEGER PRIMARY KEY``, with or without AUTOINCREMENT.

Downgrade: deletes, in batches, every order whose id is in legacy_orders,
also one that was there before the copy with the same data. Changes the
application made to those orders since the copy are lost (legacy_orders
keeps the old data); orders it inserted stay; the counter is not moved back.
If other tables reference orders, the DELETE fails on their foreign keys
(or, with ON DELETE CASCADE, deletes their rows too): delete or detach those
rows first.

Revision ID: 588879ce1977
Revises: 3e669bcbd8c7
Create Date: 2026-12-02 11:01:00.000000

"""

from collections.abc import Iterator, Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.engine import Connection

# revision identifiers, used by Alembic.
revision: str = "588879ce1977"
down_revision: str | Sequence[str] | None = "3e669bcbd8c7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH_SIZE = 5000

# orders.id's sequence (pg_get_serial_sequence('orders', 'id') names it). Its next
# id (is_called: last_value was handed out) is never lowered; no nextval, no id used.
MOVE_SEQUENCE = sa.text(
    "SELECT setval('orders_id_seq', greatest("
    "CASE WHEN is_called THEN last_value + 1 ELSE last_value END, "
    "(SELECT max(id) + 1 FROM orders), (SELECT max(id) + 1 FROM legacy_orders)), false) "
    "FROM orders_id_seq"
)
# Ids a session draws at once (CACHE). A session keeps handing out the ids it cached,
# whatever setval and the lock do: only CACHE 1 (the default) keeps the guarantee.
CACHE_SIZE = sa.text("SELECT seqcache FROM pg_sequence WHERE seqrelid = 'orders_id_seq'::regclass")
NEXT_OF_SEQUENCE = sa.text(
    "SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM orders_id_seq"
)
HELD_WITH_OTHER_DATA = sa.text(
    "SELECT l.id FROM legacy_orders l JOIN orders o ON o.id = l.id "
    "WHERE o.customer IS DISTINCT FROM l.customer "
    "OR o.total_cents IS DISTINCT FROM l.total_cents ORDER BY l.id LIMIT 20"
)
# Legacy rows of a range that orders lacks or holds with other data.
NOT_COPIED = sa.text(
    "SELECT l.id FROM legacy_orders l LEFT JOIN orders o ON o.id = l.id "
    "WHERE l.id > :after AND l.id <= :through AND (o.id IS NULL "
    "OR o.customer IS DISTINCT FROM l.customer OR o.total_cents IS DISTINCT FROM l.total_cents)"
)
MISSING = sa.text(
    "SELECT count(*) FROM legacy_orders l "
    "WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = l.id)"
)
FIRST_LEGACY_ID = sa.text("SELECT min(id) FROM legacy_orders")
LAST_LEGACY_ID = sa.text("SELECT max(id) FROM legacy_orders")
NEXT_BATCH_END = sa.text(
    "SELECT max(id) FROM "
    "(SELECT id FROM legacy_orders WHERE id > :after ORDER BY id LIMIT :batch_size) AS batch"
)
COPY_BATCH = {
    "postgresql": sa.text(
        "INSERT INTO orders (id, customer, total_cents) OVERRIDING SYSTEM VALUE "
        "SELECT id, customer, total_cents FROM legacy_orders "
        "WHERE id > :after AND id <= :through ON CONFLICT (id) DO NOTHING RETURNING id"
    ),
    "sqlite": sa.text(
        "INSERT INTO orders (id, customer, total_cents) "
        "SELECT id, customer, total_cents FROM legacy_orders "
        "WHERE id > :after AND id <= :through ON CONFLICT (id) DO NOTHING RETURNING id"
    ),
}
DELETE_BATCH = sa.text(
    "DELETE FROM orders WHERE id IN "
    "(SELECT id FROM legacy_orders WHERE id > :after AND id <= :through)"
)


def batches(bind: Connection, batch_size: int = BATCH_SIZE) -> Iterator[tuple[int, int]]:
    """(after, through) ranges of legacy ids, ``batch_size`` rows each."""
    first = bind.execute(FIRST_LEGACY_ID).scalar()
    if first is None:
        return
    after = first - 1
    while True:
        through = bind.execute(NEXT_BATCH_END, {"after": after, "batch_size": batch_size}).scalar()
        if through is None:
            return
        yield after, through
        after = through


def copy_batch(bind: Connection, statement: sa.TextClause, after: int, through: int) -> None:
    """Copy one range; a row it skipped must be in orders already, with the same data."""
    copied = set(bind.execute(statement, {"after": after, "through": through}).scalars())
    lost = [
        legacy_id
        for legacy_id in bind.execute(NOT_COPIED, {"after": after, "through": through}).scalars()
        if legacy_id not in copied  # an application edit right after the copy is no loss
    ]
    if lost:
        raise RuntimeError(f"orders holds legacy ids {lost} with other data: not copied")


def upgrade() -> None:
    """Counter first, then check, copy in committed batches, and check again."""
    bind = op.get_bind()
    dialect = op.get_context().dialect.name
    copy = COPY_BATCH[dialect]
    if dialect == "postgresql":
        # check: ignore[table-lock-statement]  inserts wait for one setval; committed next
        op.execute("LOCK TABLE orders IN SHARE MODE")  # no insert draws an id meanwhile
        if (cache := bind.execute(CACHE_SIZE).scalar_one()) > 1:
            raise RuntimeError(
                f"orders_id_seq has CACHE {cache}: ids a session cached ignore setval and "
                "could take legacy ids. ALTER SEQUENCE orders_id_seq CACHE 1, then rerun"
            )
        bind.execute(MOVE_SEQUENCE)
    with op.get_context().autocommit_block():  # commits the lock; then each statement
        if held := bind.execute(HELD_WITH_OTHER_DATA).scalars().all():
            raise RuntimeError(f"orders holds legacy ids {held} with other data: resolve them")
        if dialect == "sqlite" and (last := bind.execute(LAST_LEGACY_ID).scalar()) is not None:
            copy_batch(bind, copy, last - 1, last)  # the next id is last + 1 from here
        for after, through in batches(bind):
            copy_batch(bind, copy, after, through)
        if missing := bind.execute(MISSING).scalar_one():
            raise RuntimeError(f"{missing} legacy_orders rows are not in orders: rerun")
        if dialect == "postgresql" and bind.execute(NEXT_OF_SEQUENCE).scalar_one() <= (
            bind.execute(LAST_LEGACY_ID).scalar() or 0
        ):
            raise RuntimeError("legacy_orders got ids past orders_id_seq during the copy: rerun")


def downgrade() -> None:
    """Delete the orders whose ids are in legacy_orders, in committed batches."""
    bind = op.get_bind()
    with op.get_context().autocommit_block():
        for after, through in batches(bind):
            bind.execute(DELETE_BATCH, {"after": after, "through": through})
