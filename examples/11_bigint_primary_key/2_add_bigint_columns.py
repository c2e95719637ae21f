"""orders.id to bigint, step 2 of 7: bigint columns, kept in sync by triggers

When to use: an integer primary key (SERIAL) nears 2147483647, the last value
its sequence gives, and the table is too big to lock for ``ALTER COLUMN id
TYPE bigint``: that rewrites orders, order_lines and every index of both
under ACCESS EXCLUSIVE (minutes on a big table, all reads and writes wait).

This revision adds ``orders.id_new`` and ``order_lines.order_id_new``, bigint
and nullable, and a BEFORE INSERT OR UPDATE trigger FOR EACH ROW on each
table that copies the old column into the new one. From its commit on, every
row the application inserts or changes (an UPDATE of id too) carries the
right value, so the backfill of revision 3 only has the older rows to do.
The application never names the new columns: no release is needed for any
revision of this recipe (see 5_swap_primary_key.py for models.py).

First list what depends on the key: revision 5 swaps only the primary key,
its sequence and default, the one foreign key and the one index on
order_lines.order_id, and refuses, changing nothing, when anything else does
(a view, another table's foreign key to orders.id, another index or unique
constraint on order_lines.order_id). Its DEPENDENTS query lists them; plan a
bigint counterpart for each (built in revision 4, swapped in revision 5).

Deploy order: revisions 2 to 6 can run in one ``alembic upgrade``; each
commits on its own. On tables of a billion rows run revision 3 on its own
(throttled, as recipe 16 does) and revision 4 with ``-x statement_timeout=0``:
env.py's default of 1h bounds each concurrent build and VALIDATE. Revision 7
(drop the old columns) in a later deploy, once you no longer want to go back.

Cost: one short transaction, parent table first: each ADD COLUMN (without
a default, catalog only) takes ACCESS EXCLUSIVE on its table, held to the
commit, so orders stays locked while the migration waits for order_lines
(bounded by lock_timeout); the CREATE TRIGGERs need no more than that.
Afterwards every insert and update of both tables runs the trigger: a few
microseconds per row.

Dialects: PostgreSQL only. On SQLite an INTEGER PRIMARY KEY is already 64-bit;
this revision does nothing there.

Downgrade: drops the triggers, their functions and the new columns. Nothing
is lost: they only hold copies.

Revision ID: 865720856396
Revises: 67902fd28049
Create Date: 2026-11-27 10:01:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "865720856396"
down_revision: str | Sequence[str] | None = "67902fd28049"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# One function per table: the new column follows the old one on every write.
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


def upgrade() -> None:
    """Add the bigint columns and the triggers that fill them, orders first."""
    if op.get_context().dialect.name != "postgresql":
        return
    op.add_column("orders", sa.Column("id_new", sa.BigInteger(), nullable=True))
    op.execute(SYNC_ORDERS)
    op.execute(
        "CREATE TRIGGER orders_id_new_sync BEFORE INSERT OR UPDATE ON orders "
        "FOR EACH ROW EXECUTE FUNCTION orders_id_new_sync()"
    )
    op.add_column("order_lines", sa.Column("order_id_new", sa.BigInteger(), nullable=True))
    op.execute(SYNC_ORDER_LINES)
    op.execute(
        "CREATE TRIGGER order_lines_order_id_new_sync BEFORE INSERT OR UPDATE ON order_lines "
        "FOR EACH ROW EXECUTE FUNCTION order_lines_order_id_new_sync()"
    )


def downgrade() -> None:
    """Drop the triggers, their functions and the bigint columns."""
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER orders_id_new_sync ON orders")
    op.execute("DROP TRIGGER order_lines_order_id_new_sync ON order_lines")
    op.execute("DROP FUNCTION orders_id_new_sync(), order_lines_order_id_new_sync()")
    op.drop_column("orders", "id_new")
    op.drop_column("order_lines", "order_id_new")
