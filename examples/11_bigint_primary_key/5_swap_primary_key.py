"""orders.id to bigint, step 5 of 7: the swap, in one short transaction

When to use: after revision 4 (see 2_add_bigint_columns.py for the order).

One transaction, every statement a catalog change:

1. ``LOCK TABLE orders, order_lines IN ACCESS EXCLUSIVE MODE``: both locks
   first, parent then child, the order in which the application's
   transactions lock them (an order, then its lines). Dropping the foreign
   key first would lock order_lines before orders: a transaction that
   inserted an order and waits for order_lines would deadlock with it.
   Behind a long query the LOCK waits at most env.py's ``lock_timeout``
   (``alembic -x lock_timeout=1s upgrade head``); every query on both tables
   queues behind it meanwhile. On a timeout nothing has changed: rerun.
2. Drop the foreign key and the primary key; the old columns become
   ``id_old`` and ``order_id_old``, nullable, without a default (new rows
   leave them NULL), and the bigint columns take the names ``id`` and
   ``order_id``.
3. ``ADD CONSTRAINT pk_orders PRIMARY KEY USING INDEX uq_orders_id_new``:
   revision 4's index becomes the key (and is renamed pk_orders); the column
   is NOT NULL already, so there is no scan.
4. The sequence moves: ``ALTER SEQUENCE orders_id_seq AS bigint`` (or
   nextval still stops at 2147483647), ``OWNED BY orders.id`` (or dropping
   id_old in revision 7 would drop it), and the new column's default.
5. The triggers go; the indexes of order_lines swap names; the foreign key
   comes back on the bigint column NOT VALID (no scan; revision 6 validates).

The application never names the new columns, so it needs no release before
or after: its ``id`` and ``order_id`` are bigint from the commit on (Python
ints either way). Change models.py to ``BigInteger`` in your next release,
or autogenerate will offer to turn them back into INTEGER.

Cost: ACCESS EXCLUSIVE on orders and order_lines for the few milliseconds the
catalog changes take, after the wait for the locks.

Dialects: PostgreSQL only; nothing to do on SQLite.

Downgrade: swaps back while every value fits in integer: it refuses, changing
nothing, when an id, an order_id or the sequence is past 2147483647. First,
outside a transaction, it builds unique indexes on id_old (to become the key
again) and on id (revision 4's uq_orders_id_new) concurrently; then, under
ACCESS EXCLUSIVE on both tables, it copies the keys of rows inserted since
the swap into the old columns, SET NOT NULL on them (a scan of each table,
under the lock), and swaps names, key, sequence, triggers and foreign key
back. That lock lasts as long as the two scans. Nothing is lost.

Revision ID: 412d99df20b6
Revises: 78100c6d948d
Create Date: 2026-11-27 10:04:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "412d99df20b6"
down_revision: str | Sequence[str] | None = "78100c6d948d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOCK_BOTH = "LOCK TABLE orders, order_lines IN ACCESS EXCLUSIVE MODE"  # parent, then child

SWAP = [
    "ALTER TABLE order_lines DROP CONSTRAINT fk_order_lines_order_id_orders",
    "ALTER TABLE orders DROP CONSTRAINT pk_orders",
    "ALTER TABLE orders ALTER COLUMN id DROP DEFAULT",
    "ALTER TABLE orders ALTER COLUMN id DROP NOT NULL",
    "ALTER TABLE orders RENAME COLUMN id TO id_old",
    "ALTER TABLE orders RENAME COLUMN id_new TO id",
    "ALTER TABLE orders ADD CONSTRAINT pk_orders PRIMARY KEY USING INDEX uq_orders_id_new",
    "ALTER SEQUENCE orders_id_seq AS bigint",
    "ALTER SEQUENCE orders_id_seq OWNED BY orders.id",
    "ALTER TABLE orders ALTER COLUMN id SET DEFAULT nextval('orders_id_seq'::regclass)",
    "DROP TRIGGER orders_id_new_sync ON orders",
    "ALTER TABLE order_lines ALTER COLUMN order_id DROP NOT NULL",
    "ALTER TABLE order_lines RENAME COLUMN order_id TO order_id_old",
    "ALTER TABLE order_lines RENAME COLUMN order_id_new TO order_id",
    "ALTER INDEX ix_order_lines_order_id RENAME TO ix_order_lines_order_id_old",
    "ALTER INDEX ix_order_lines_order_id_new RENAME TO ix_order_lines_order_id",
    "DROP TRIGGER order_lines_order_id_new_sync ON order_lines",
    "DROP FUNCTION orders_id_new_sync(), order_lines_order_id_new_sync()",
    "ALTER TABLE order_lines ADD CONSTRAINT fk_order_lines_order_id_orders "
    "FOREIGN KEY (order_id) REFERENCES orders (id) NOT VALID",
]

# The downgrade: revision 4's state back, from revision 2's functions.
SYNC_ORDERS = """
CREATE OR REPLACE FUNCTION orders_id_new_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.id_new := NEW.id;
    RETURN NEW;
END
$$
"""
SYNC_ORDER_LINES = """
CREATE OR REPLACE FUNCTION order_lines_order_id_new_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.order_id_new := NEW.order_id;
    RETURN NEW;
END
$$
"""
SWAP_BACK = [
    "UPDATE orders SET id_old = id WHERE id_old IS NULL",
    "UPDATE order_lines SET order_id_old = order_id WHERE order_id_old IS NULL",
    "ALTER TABLE order_lines DROP CONSTRAINT fk_order_lines_order_id_orders",
    "ALTER TABLE orders DROP CONSTRAINT pk_orders",
    "ALTER TABLE orders ALTER COLUMN id DROP DEFAULT",
    "ALTER TABLE orders RENAME COLUMN id TO id_new",
    "ALTER TABLE orders RENAME COLUMN id_old TO id",
    "ALTER TABLE orders ALTER COLUMN id SET NOT NULL",
    "ALTER TABLE orders ADD CONSTRAINT pk_orders PRIMARY KEY USING INDEX uq_orders_id_old",
    "ALTER SEQUENCE orders_id_seq AS integer",
    "ALTER SEQUENCE orders_id_seq OWNED BY orders.id",
    "ALTER TABLE orders ALTER COLUMN id SET DEFAULT nextval('orders_id_seq'::regclass)",
    SYNC_ORDERS,
    "CREATE TRIGGER orders_id_new_sync BEFORE INSERT OR UPDATE ON orders "
    "FOR EACH ROW EXECUTE FUNCTION orders_id_new_sync()",
    "ALTER TABLE order_lines RENAME COLUMN order_id TO order_id_new",
    "ALTER TABLE order_lines RENAME COLUMN order_id_old TO order_id",
    "ALTER TABLE order_lines ALTER COLUMN order_id SET NOT NULL",
    "ALTER INDEX ix_order_lines_order_id RENAME TO ix_order_lines_order_id_new",
    "ALTER INDEX ix_order_lines_order_id_old RENAME TO ix_order_lines_order_id",
    SYNC_ORDER_LINES,
    "CREATE TRIGGER order_lines_order_id_new_sync BEFORE INSERT OR UPDATE ON order_lines "
    "FOR EACH ROW EXECUTE FUNCTION order_lines_order_id_new_sync()",
    "ALTER TABLE order_lines ADD CONSTRAINT fk_order_lines_order_id_orders "
    "FOREIGN KEY (order_id) REFERENCES orders (id) NOT VALID",
]
INTEGER_MAX = 2147483647
LARGEST_KEY = sa.text(
    "SELECT greatest((SELECT max(id) FROM orders), (SELECT max(order_id) FROM order_lines), "
    "(SELECT last_value FROM orders_id_seq))"
)
INVALID_INDEX = sa.text(
    "SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass(:index_name)"
)


def upgrade() -> None:
    """Swap the columns, the key, the sequence and the foreign key in one transaction."""
    if op.get_context().dialect.name != "postgresql":
        return
    # check: ignore[table-lock-statement]  SWAP's ALTERs take it on both anyway; fixes the order
    op.execute(LOCK_BOTH)
    for statement in SWAP:
        op.execute(statement)


def refuse_past_integer() -> None:
    """Stop the downgrade when a key no longer fits in integer."""
    largest = op.get_bind().execute(LARGEST_KEY).scalar()
    if largest is not None and largest > INTEGER_MAX:
        raise RuntimeError(
            f"orders.id has reached {largest}, past integer's 2147483647: "
            "the key cannot go back to integer"
        )


def downgrade() -> None:
    """Swap back to the integer columns, while every key fits."""
    if op.get_context().dialect.name != "postgresql":
        return
    refuse_past_integer()
    with op.get_context().autocommit_block():
        for name, column in (("uq_orders_id_old", "id_old"), ("uq_orders_id_new", "id")):
            if op.get_bind().execute(INVALID_INDEX, {"index_name": name}).scalar():
                op.drop_index(
                    name, table_name="orders", postgresql_concurrently=True, if_exists=True
                )
            op.create_index(
                name,
                "orders",
                [column],
                unique=True,
                postgresql_concurrently=True,
                if_not_exists=True,
            )
    op.execute(LOCK_BOTH)
    refuse_past_integer()  # again, under the lock: no new key can pass it now
    for statement in SWAP_BACK:
        op.execute(statement)
    with op.get_context().autocommit_block():  # commits the swap; the scan runs on its own
        op.execute("ALTER TABLE order_lines VALIDATE CONSTRAINT fk_order_lines_order_id_orders")
