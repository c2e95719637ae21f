"""orders.id to bigint, step 7 of 7: drop the integer columns

When to use: a later deploy than revision 5, once going back to integer is
off the table (see 2_add_bigint_columns.py for the order). Until then,
revision 5's downgrade can swap back.

Drops ``orders.id_old`` and ``order_lines.order_id_old`` (with its index).
They no longer carry a key, a default or a sequence (revision 5 moved
``orders_id_seq`` to the new column, so it survives), and the application
never reads them. A downgrade of revision 5 that stopped partway (a lock
timeout) leaves triggers that write the old columns and a second unique
index on orders.id: they go too, or every insert would fail once the
columns are gone.

Cost: two DROP COLUMNs: a moment of ACCESS EXCLUSIVE on each table, no
rewrite; the space comes back as rows are rewritten or vacuumed.

Dialects: PostgreSQL only; nothing to do on SQLite.

Downgrade: adds both columns back, nullable integer, fills them from ``id``
and ``order_id`` in committed batches, and indexes order_id_old
concurrently, as revision 5 left them. It refuses, changing nothing, once a
key or the sequence is past 2147483647. Nothing is lost.

Revision ID: 3abbfa3a99fa
Revises: a5aae1b1ea3f
Create Date: 2026-11-27 10:06:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "3abbfa3a99fa"
down_revision: str | Sequence[str] | None = "a5aae1b1ea3f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH_SIZE = 5000
INTEGER_MAX = 2147483647
LARGEST_KEY = sa.text(
    "SELECT greatest((SELECT max(id) FROM orders), (SELECT max(order_id) FROM order_lines), "
    "(SELECT last_value FROM orders_id_seq))"
)
INVALID_INDEX = sa.text(
    "SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass(:index_name)"
)
# What an interrupted downgrade of revision 5 leaves: triggers naming the old columns.
DOWNGRADE_LEFTOVERS = [
    "DROP TRIGGER IF EXISTS orders_id_old_sync ON orders",
    "DROP TRIGGER IF EXISTS order_lines_order_id_old_sync ON order_lines",
    "DROP FUNCTION IF EXISTS orders_id_old_sync(), order_lines_order_id_old_sync()",
    "DROP INDEX IF EXISTS uq_orders_id_new",
]
NEXT_ORDERS_BATCH_END = sa.text(
    "SELECT max(id) FROM "
    "(SELECT id FROM orders WHERE id > :after ORDER BY id LIMIT :batch_size) AS batch"
)
FILL_ORDERS_BATCH = sa.text(
    "UPDATE orders SET id_old = id WHERE id > :after AND id <= :through AND id_old IS NULL"
)
NEXT_ORDER_LINES_BATCH_END = sa.text(
    "SELECT max(id) FROM "
    "(SELECT id FROM order_lines WHERE id > :after ORDER BY id LIMIT :batch_size) AS batch"
)
FILL_ORDER_LINES_BATCH = sa.text(
    "UPDATE order_lines SET order_id_old = order_id "
    "WHERE id > :after AND id <= :through AND order_id_old IS NULL"
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
    """Drop the integer columns, orders first."""
    if op.get_context().dialect.name != "postgresql":
        return
    # check: ignore[drop-column] the application never named id_old: it reads id
    op.drop_column("orders", "id_old")
    # check: ignore[drop-column] the application never named order_id_old: it reads order_id
    op.drop_column("order_lines", "order_id_old")
    for statement in DOWNGRADE_LEFTOVERS:  # under the locks the drops took
        op.execute(statement)


def downgrade() -> None:
    """Add the integer columns back and fill them, while every key fits."""
    if op.get_context().dialect.name != "postgresql":
        return
    largest = op.get_bind().execute(LARGEST_KEY).scalar()
    if largest is not None and largest > INTEGER_MAX:
        raise RuntimeError(
            f"orders.id has reached {largest}, past integer's 2147483647: "
            "the key cannot go back to integer"
        )
    op.add_column("orders", sa.Column("id_old", sa.Integer(), nullable=True), if_not_exists=True)
    op.add_column(
        "order_lines", sa.Column("order_id_old", sa.Integer(), nullable=True), if_not_exists=True
    )
    with op.get_context().autocommit_block():  # commits the columns; each batch on its own
        fill(op.get_bind(), NEXT_ORDERS_BATCH_END, FILL_ORDERS_BATCH)
        fill(op.get_bind(), NEXT_ORDER_LINES_BATCH_END, FILL_ORDER_LINES_BATCH)
        if (
            op.get_bind()
            .execute(INVALID_INDEX, {"index_name": "ix_order_lines_order_id_old"})
            .scalar()
        ):
            op.drop_index(
                "ix_order_lines_order_id_old",
                table_name="order_lines",
                postgresql_concurrently=True,
                if_exists=True,
            )
        op.create_index(
            "ix_order_lines_order_id_old",
            "order_lines",
            ["order_id_old"],
            postgresql_concurrently=True,
            if_not_exists=True,
        )
