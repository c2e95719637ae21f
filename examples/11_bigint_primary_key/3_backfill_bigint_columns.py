"""orders.id to bigint, step 3 of 7: backfill in batches, then CHECK ... NOT VALID

When to use: after revision 2 (see 2_add_bigint_columns.py for the order).

The backfill copies ``id`` into ``id_new`` for the rows older than revision
2's triggers, one primary-key range per committed batch
(``autocommit_block``), orders first, then order_lines by its own key. A
batch only touches rows whose new column is still NULL: rows the triggers
filled are skipped, and a rerun after an interruption writes nothing twice
(it reads the finished batches' key ranges again, a range scan each).

Then ``CHECK (id_new IS NOT NULL) NOT VALID`` on orders and the same for
order_lines.order_id_new: new rows are checked from the commit on, the old
ones are scanned by revision 4's VALIDATE, which lets SET NOT NULL and the
primary key skip their own scan.

Cost: one short UPDATE per batch of BATCH_SIZE rows; each batch's row locks
last as long as it does (a few milliseconds at 5,000 rows). Dead row versions
until vacuum. The NOT VALID checks: a moment of ACCESS EXCLUSIVE on each table,
no scan. Needs a live connection: ``--sql`` cannot page through rows. In
one run on a 2-core machine a million orders and their lines took 37 s:
about 10 hours per billion rows. At that size run this revision on its own,
outside a deploy, with pauses between batches (recipe 16 throttles a
backfill by replica lag).

Dialects: PostgreSQL only; nothing to do on SQLite.

Downgrade: drops the checks. The copied values stay until revision 2's
downgrade drops their columns.

Revision ID: 0d4a22695dfc
Revises: 865720856396
Create Date: 2026-11-27 10:02:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0d4a22695dfc"
down_revision: str | Sequence[str] | None = "865720856396"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH_SIZE = 5000
# op.f(): the names are final; models.py's naming convention would prefix them again.
ORDERS_CHECK = "ck_orders_id_new_not_null"
ORDER_LINES_CHECK = "ck_order_lines_order_id_new_not_null"

NEXT_ORDERS_BATCH_END = sa.text(
    "SELECT max(id) FROM "
    "(SELECT id FROM orders WHERE id > :after ORDER BY id LIMIT :batch_size) AS batch"
)
FILL_ORDERS_BATCH = sa.text(
    "UPDATE orders SET id_new = id WHERE id > :after AND id <= :through AND id_new IS NULL"
)
NEXT_ORDER_LINES_BATCH_END = sa.text(
    "SELECT max(id) FROM "
    "(SELECT id FROM order_lines WHERE id > :after ORDER BY id LIMIT :batch_size) AS batch"
)
FILL_ORDER_LINES_BATCH = sa.text(
    "UPDATE order_lines SET order_id_new = order_id "
    "WHERE id > :after AND id <= :through AND order_id_new IS NULL"
)


def fill(bind: sa.Connection, next_batch_end: sa.TextClause, fill_batch: sa.TextClause) -> None:
    """Run ``fill_batch`` over the whole table, one primary-key range at a time."""
    after = 0
    while True:
        through = bind.execute(next_batch_end, {"after": after, "batch_size": BATCH_SIZE}).scalar()
        if through is None:
            return
        bind.execute(fill_batch, {"after": after, "through": through})
        after = through


def upgrade() -> None:
    """Copy the old rows' keys in committed batches; then the NOT VALID checks."""
    if op.get_context().dialect.name != "postgresql":
        return
    with op.get_context().autocommit_block():  # every batch commits on its own
        fill(op.get_bind(), NEXT_ORDERS_BATCH_END, FILL_ORDERS_BATCH)
        fill(op.get_bind(), NEXT_ORDER_LINES_BATCH_END, FILL_ORDER_LINES_BATCH)
    op.create_check_constraint(
        op.f(ORDERS_CHECK), "orders", "id_new IS NOT NULL", postgresql_not_valid=True
    )
    op.create_check_constraint(
        op.f(ORDER_LINES_CHECK),
        "order_lines",
        "order_id_new IS NOT NULL",
        postgresql_not_valid=True,
    )


def downgrade() -> None:
    """Drop the checks; the copies stay until revision 2's downgrade."""
    if op.get_context().dialect.name != "postgresql":
        return
    op.drop_constraint(op.f(ORDERS_CHECK), "orders", type_="check")
    op.drop_constraint(op.f(ORDER_LINES_CHECK), "order_lines", type_="check")
