"""orders.id to bigint, step 5 of 7: the swap, in one short transaction

When to use: after revision 4 (see 2_add_bigint_columns.py for the order).

First it refuses, changing nothing, when anything it does not swap depends on
``orders.id`` or ``order_lines.order_id`` (the DEPENDENTS query below, from
pg_depend): a view (it would go on reading the renamed old column: new rows
show a NULL id, and revision 7's DROP COLUMN fails on it), another table's
foreign key to orders.id (DROP CONSTRAINT pk_orders would fail), another
index or unique constraint on order_lines.order_id (it would stay on
order_id_old and stop covering new rows), a CHECK, statistics. For each:
build its bigint counterpart in revision 4 (concurrently) or recreate it
here, in SWAP and SWAP_BACK, then add its name to HANDLED. Code that names
the column inside a function body is not in pg_depend: search for it.

Then one transaction, every statement a catalog change:

1. ``LOCK TABLE orders, order_lines IN ACCESS EXCLUSIVE MODE``: both locks
   first, parent then child. That order matches the application's
   transactions that touch orders first (an order, then its lines); dropping
   the foreign key first would lock order_lines before orders and deadlock
   with those. A transaction that locks order_lines first (updates lines,
   then their order; or inserts a line, whose foreign key check then locks
   orders) can deadlock with the LOCK: PostgreSQL cancels one of the two
   after ``deadlock_timeout`` (1 s by default). If it cancels the migration,
   nothing has changed: rerun. Behind a long query the LOCK waits at most
   env.py's ``lock_timeout`` (``alembic -x lock_timeout=1s upgrade head``);
   every query on both tables queues behind it meanwhile. On a timeout
   nothing has changed: rerun.
2. Drop the foreign key and the primary key; the old columns become
   ``id_old`` and ``order_id_old``, nullable, without a default (new rows
   leave them NULL), and the bigint columns take the names ``id`` and
   ``order_id``.
3. ``ADD CONSTRAINT pk_orders PRIMARY KEY USING INDEX uq_orders_id_new``:
   revision 4's index becomes the key (and is renamed pk_orders); the column
   is NOT NULL already, so there is no scan.
4. The sequence moves: ``ALTER SEQUENCE orders_id_seq AS bigint`` (or
   nextval still stops at 2147483647), ``OWNED BY orders.id``, and the new
   column's default. Without OWNED BY, revision 7's DROP COLUMN id_old fails
   (the new default depends on the sequence, which id_old still owns), and
   DROP ... CASCADE would drop the sequence and that default.
5. The triggers go; the indexes of order_lines swap names; the foreign key
   comes back on the bigint column NOT VALID (no scan; revision 6
   validates), with the old key's definition (pg_get_constraintdef: its ON
   DELETE, ON UPDATE, DEFERRABLE).

The application never names the new columns, so it needs no release before
or after: its ``id`` and ``order_id`` are bigint from the commit on (Python
ints either way). Change models.py to ``BigInteger`` in your next release,
or autogenerate will offer to turn them back into INTEGER.

Cost: ACCESS EXCLUSIVE on orders and order_lines for the few milliseconds the
catalog changes take, after the wait for the locks.

Dialects: PostgreSQL only; nothing to do on SQLite. Needs a live connection
(it reads the catalog): ``--sql`` is refused.

Downgrade: swaps back while every value fits in integer: it refuses, changing
nothing, when an id, an order_id or the sequence is past 2147483647, or when
something not in HANDLED depends on the key. First, each step committing on
its own: triggers that copy ``id`` into ``id_old`` on every write (SHARE ROW
EXCLUSIVE, a moment), the old columns of rows written since the swap filled
in committed batches, ``CHECK (id_old IS NOT NULL) NOT VALID`` (a moment of
ACCESS EXCLUSIVE) then VALIDATE (a scan, writes go on), and unique indexes on
id_old (to become the key again) and on id (revision 4's uq_orders_id_new),
built concurrently. Then, under ACCESS EXCLUSIVE on both tables, catalog
changes only: SET NOT NULL skips its scan (the validated checks prove it),
names, key, sequence, triggers and foreign key swap back; the foreign key is
validated after the commit. A timeout or a failure leaves the committed steps
in place: rerun the downgrade. Nothing is lost.

Revision ID: 412d99df20b6
Revises: 78100c6d948d
Create Date: 2026-11-27 10:04:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

# revision identifiers, used by Alembic.
revision: str = "412d99df20b6"
down_revision: str | Sequence[str] | None = "78100c6d948d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOCK_BOTH = "LOCK TABLE orders, order_lines IN ACCESS EXCLUSIVE MODE"  # parent, then child
FK_NAME = "fk_order_lines_order_id_orders"

# What the swap moves itself; add the name of each dependent you swap in SWAP and SWAP_BACK.
HANDLED = (
    "pk_orders",
    FK_NAME,
    "orders_id_seq",
    "ix_order_lines_order_id",
    "uq_orders_id_new",  # built by the downgrade on the bigint id
)
# Everything that depends on orders.id or order_lines.order_id and is not in HANDLED,
# nor their NOT NULL constraints or orders.id's default.
DEPENDENTS = sa.text(
    "SELECT pg_describe_object(d.classid, d.objid, d.objsubid) "
    "FROM pg_depend d JOIN pg_attribute a "
    "ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid "
    "WHERE d.refclassid = 'pg_class'::regclass "
    "AND ((d.refobjid = 'orders'::regclass AND a.attname = 'id') "
    "OR (d.refobjid = 'order_lines'::regclass AND a.attname = 'order_id')) "
    "AND NOT (d.classid = 'pg_constraint'::regclass AND d.objid IN "
    "(SELECT oid FROM pg_constraint WHERE contype = 'n' OR conname = ANY(:handled))) "
    "AND NOT (d.classid = 'pg_class'::regclass AND d.objid IN "
    "(SELECT oid FROM pg_class WHERE relname = ANY(:handled))) "
    "AND NOT (d.classid = 'pg_attrdef'::regclass AND d.refobjid = 'orders'::regclass) "
    "ORDER BY 1"
)
# The foreign key as it stands (ON DELETE, ON UPDATE, DEFERRABLE), to recreate it alike.
FK_DEFINITION = sa.text(
    "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
    "WHERE conrelid = 'order_lines'::regclass AND conname = :name"
)

SWAP = [
    f"ALTER TABLE order_lines DROP CONSTRAINT {FK_NAME}",
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
]

# The downgrade. Before the lock: triggers that keep the old columns filled, so a
# validated CHECK can prove them NOT NULL and SET NOT NULL skips its scan.
SYNC_BACK = [
    """
CREATE OR REPLACE FUNCTION orders_id_old_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.id_old := NEW.id;
    RETURN NEW;
END
$$
""",
    "CREATE OR REPLACE TRIGGER orders_id_old_sync BEFORE INSERT OR UPDATE ON orders "
    "FOR EACH ROW EXECUTE FUNCTION orders_id_old_sync()",
    """
CREATE OR REPLACE FUNCTION order_lines_order_id_old_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.order_id_old := NEW.order_id;
    RETURN NEW;
END
$$
""",
    "CREATE OR REPLACE TRIGGER order_lines_order_id_old_sync BEFORE INSERT OR UPDATE "
    "ON order_lines FOR EACH ROW EXECUTE FUNCTION order_lines_order_id_old_sync()",
]
BATCH_SIZE = 5000
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
# (table, check, column, its VALIDATE): proofs for SET NOT NULL, dropped under the lock.
OLD_CHECKS = (
    (
        "orders",
        "ck_orders_id_old_not_null",
        "id_old",
        "ALTER TABLE orders VALIDATE CONSTRAINT ck_orders_id_old_not_null",
    ),
    (
        "order_lines",
        "ck_order_lines_order_id_old_not_null",
        "order_id_old",
        "ALTER TABLE order_lines VALIDATE CONSTRAINT ck_order_lines_order_id_old_not_null",
    ),
)
CHECK_EXISTS = sa.text("SELECT count(*) FROM pg_constraint WHERE conname = :name")
# Revision 2's functions, for revision 4's state.
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
    "DROP TRIGGER orders_id_old_sync ON orders",
    "DROP TRIGGER order_lines_order_id_old_sync ON order_lines",
    "DROP FUNCTION orders_id_old_sync(), order_lines_order_id_old_sync()",
    f"ALTER TABLE order_lines DROP CONSTRAINT {FK_NAME}",
    "ALTER TABLE orders DROP CONSTRAINT pk_orders",
    "ALTER TABLE orders ALTER COLUMN id DROP DEFAULT",
    "ALTER TABLE orders RENAME COLUMN id TO id_new",
    "ALTER TABLE orders RENAME COLUMN id_old TO id",
    "ALTER TABLE orders ALTER COLUMN id SET NOT NULL",  # no scan: ck_orders_id_old_not_null
    "ALTER TABLE orders DROP CONSTRAINT ck_orders_id_old_not_null",
    "ALTER TABLE orders ADD CONSTRAINT pk_orders PRIMARY KEY USING INDEX uq_orders_id_old",
    "ALTER SEQUENCE orders_id_seq AS integer",
    "ALTER SEQUENCE orders_id_seq OWNED BY orders.id",
    "ALTER TABLE orders ALTER COLUMN id SET DEFAULT nextval('orders_id_seq'::regclass)",
    SYNC_ORDERS,
    "CREATE TRIGGER orders_id_new_sync BEFORE INSERT OR UPDATE ON orders "
    "FOR EACH ROW EXECUTE FUNCTION orders_id_new_sync()",
    "ALTER TABLE order_lines RENAME COLUMN order_id TO order_id_new",
    "ALTER TABLE order_lines RENAME COLUMN order_id_old TO order_id",
    "ALTER TABLE order_lines ALTER COLUMN order_id SET NOT NULL",  # no scan either
    "ALTER TABLE order_lines DROP CONSTRAINT ck_order_lines_order_id_old_not_null",
    "ALTER INDEX ix_order_lines_order_id RENAME TO ix_order_lines_order_id_new",
    "ALTER INDEX ix_order_lines_order_id_old RENAME TO ix_order_lines_order_id",
    SYNC_ORDER_LINES,
    "CREATE TRIGGER order_lines_order_id_new_sync BEFORE INSERT OR UPDATE ON order_lines "
    "FOR EACH ROW EXECUTE FUNCTION order_lines_order_id_new_sync()",
]
INTEGER_MAX = 2147483647
LARGEST_KEY = sa.text(
    "SELECT greatest((SELECT max(id) FROM orders), (SELECT max(order_id) FROM order_lines), "
    "(SELECT last_value FROM orders_id_seq))"
)
INVALID_INDEX = sa.text(
    "SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass(:index_name)"
)


def refuse_offline_and_unhandled_dependents() -> None:
    """Stop, changing nothing, without a live connection or with dependents left unswapped."""
    if context.is_offline_mode():
        raise RuntimeError(
            "5_swap_primary_key.py reads the catalog (dependents, the foreign key's "
            "definition): run it on a live connection, not with --sql"
        )
    unhandled = op.get_bind().execute(DEPENDENTS, {"handled": list(HANDLED)}).scalars().all()
    if unhandled:
        raise RuntimeError(
            "these depend on orders.id or order_lines.order_id and the swap does not move "
            f"them: {'; '.join(unhandled)}. Swap each in SWAP and SWAP_BACK (build its bigint "
            "counterpart concurrently in revision 4), then add its name to HANDLED"
        )


def add_foreign_key(definition: str) -> None:
    """Recreate the foreign key on the current order_id with ``definition``, NOT VALID."""
    definition = definition.removesuffix(" NOT VALID")
    # check: ignore[sql-string-formatting]  a constant name and the catalog's own definition
    op.execute(f"ALTER TABLE order_lines ADD CONSTRAINT {FK_NAME} {definition} NOT VALID")


def upgrade() -> None:
    """Swap the columns, the key, the sequence and the foreign key in one transaction."""
    if op.get_context().dialect.name != "postgresql":
        return
    refuse_offline_and_unhandled_dependents()
    # check: ignore[table-lock-statement]  SWAP's ALTERs take it on both anyway; fixes the order
    op.execute(LOCK_BOTH)
    definition = op.get_bind().execute(FK_DEFINITION, {"name": FK_NAME}).scalar_one()
    for statement in SWAP:
        op.execute(statement)
    add_foreign_key(definition)


def refuse_past_integer() -> None:
    """Stop the downgrade when a key, or the sequence, no longer fits in integer."""
    largest = op.get_bind().execute(LARGEST_KEY).scalar()
    if largest is not None and largest > INTEGER_MAX:
        raise RuntimeError(
            f"orders.id has reached {largest}, past integer's 2147483647: "
            "the key cannot go back to integer"
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


def prepare_old_columns() -> None:
    """Outside the lock: the old columns filled, proven NOT NULL, the old key indexed."""
    bind = op.get_bind()
    for statement in SYNC_BACK:
        op.execute(statement)
    fill(bind, NEXT_ORDERS_BATCH_END, FILL_ORDERS_BATCH)
    fill(bind, NEXT_ORDER_LINES_BATCH_END, FILL_ORDER_LINES_BATCH)
    for table, check, column, validate in OLD_CHECKS:
        if not bind.execute(CHECK_EXISTS, {"name": check}).scalar():
            op.create_check_constraint(
                op.f(check), table, f"{column} IS NOT NULL", postgresql_not_valid=True
            )
        op.execute(validate)
    for name, column in (("uq_orders_id_old", "id_old"), ("uq_orders_id_new", "id")):
        if bind.execute(INVALID_INDEX, {"index_name": name}).scalar():
            op.drop_index(name, table_name="orders", postgresql_concurrently=True, if_exists=True)
        op.create_index(
            name,
            "orders",
            [column],
            unique=True,
            postgresql_concurrently=True,
            if_not_exists=True,
        )


def downgrade() -> None:
    """Swap back to the integer columns, while every key fits."""
    if op.get_context().dialect.name != "postgresql":
        return
    refuse_offline_and_unhandled_dependents()
    refuse_past_integer()
    with op.get_context().autocommit_block():  # each step commits on its own
        prepare_old_columns()
    op.execute(LOCK_BOTH)
    refuse_past_integer()  # again, under the lock: no new key can pass it now
    definition = op.get_bind().execute(FK_DEFINITION, {"name": FK_NAME}).scalar_one()
    for statement in SWAP_BACK:
        op.execute(statement)
    add_foreign_key(definition)
    with op.get_context().autocommit_block():  # commits the swap; the scan runs on its own
        op.execute("ALTER TABLE order_lines VALIDATE CONSTRAINT fk_order_lines_order_id_orders")
