"""orders.id to bigint, step 4 of 7: indexes built concurrently, NOT NULL proven

When to use: after revision 3 (see 2_add_bigint_columns.py for the order).

In ``autocommit_block()``, each statement committing on its own:

1. ``CREATE UNIQUE INDEX CONCURRENTLY uq_orders_id_new``: revision 5 turns it
   into the primary key (``ADD CONSTRAINT ... PRIMARY KEY USING INDEX``), so
   the key is never built under a lock; and ``CREATE INDEX CONCURRENTLY
   ix_order_lines_order_id_new`` for the foreign key's lookups. A failed
   concurrent build leaves an INVALID index that IF NOT EXISTS would take for
   done, so a leftover is dropped first (as recipe 03 does).
2. ``VALIDATE`` of revision 3's checks: a scan of each table under SHARE
   UPDATE EXCLUSIVE; reads and writes go on.

Then, in the revision's transaction, orders first: ``SET NOT NULL`` on both
new columns (the validated checks prove there is no NULL, so no scan: the
server logs "existing constraints on column ... are sufficient") and the
checks are dropped. ADD PRIMARY KEY USING INDEX needs NOT NULL columns;
without it, revision 5 would scan orders under ACCESS EXCLUSIVE.

Cost: two concurrent builds (each two scans and waits for older snapshots;
env.py lifts lock_timeout for them, statement_timeout still applies), two
VALIDATE scans, then a moment of ACCESS EXCLUSIVE on each table. env.py's
statement_timeout defaults to 1h, for each build and each VALIDATE: on
tables that take longer, run this revision with ``-x statement_timeout=0``.

Dialects: PostgreSQL only; nothing to do on SQLite.

Downgrade: makes the columns nullable, puts revision 3's checks back NOT
VALID, and drops both indexes concurrently. Nothing is lost.

Revision ID: 78100c6d948d
Revises: 0d4a22695dfc
Create Date: 2026-11-27 10:03:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

# revision identifiers, used by Alembic.
revision: str = "78100c6d948d"
down_revision: str | Sequence[str] | None = "0d4a22695dfc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORDERS_CHECK = "ck_orders_id_new_not_null"
ORDER_LINES_CHECK = "ck_order_lines_order_id_new_not_null"
INVALID_INDEX = sa.text(
    "SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass(:index_name)"
)


def drop_invalid_leftovers() -> None:
    """Drop what an interrupted concurrent build of these indexes left behind."""
    if context.is_offline_mode():  # --sql: no catalog to read
        return
    for table, name in (
        ("orders", "uq_orders_id_new"),
        ("order_lines", "ix_order_lines_order_id_new"),
    ):
        if op.get_bind().execute(INVALID_INDEX, {"index_name": name}).scalar():
            op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)


def upgrade() -> None:
    """Build the indexes and validate the checks outside a transaction; then SET NOT NULL."""
    if op.get_context().dialect.name != "postgresql":
        return
    with op.get_context().autocommit_block():
        drop_invalid_leftovers()
        op.create_index(
            "uq_orders_id_new",
            "orders",
            ["id_new"],
            unique=True,
            postgresql_concurrently=True,
            if_not_exists=True,
        )
        op.create_index(
            "ix_order_lines_order_id_new",
            "order_lines",
            ["order_id_new"],
            postgresql_concurrently=True,
            if_not_exists=True,
        )
        op.execute("ALTER TABLE orders VALIDATE CONSTRAINT ck_orders_id_new_not_null")
        op.execute(
            "ALTER TABLE order_lines VALIDATE CONSTRAINT ck_order_lines_order_id_new_not_null"
        )
    op.alter_column("orders", "id_new", existing_type=sa.BigInteger(), nullable=False)
    op.alter_column("order_lines", "order_id_new", existing_type=sa.BigInteger(), nullable=False)
    op.drop_constraint(op.f(ORDERS_CHECK), "orders", type_="check")
    op.drop_constraint(op.f(ORDER_LINES_CHECK), "order_lines", type_="check")


def downgrade() -> None:
    """Nullable again, with revision 3's NOT VALID checks; drop the indexes concurrently."""
    if op.get_context().dialect.name != "postgresql":
        return
    op.alter_column("orders", "id_new", existing_type=sa.BigInteger(), nullable=True)
    op.alter_column("order_lines", "order_id_new", existing_type=sa.BigInteger(), nullable=True)
    op.create_check_constraint(
        op.f(ORDERS_CHECK), "orders", "id_new IS NOT NULL", postgresql_not_valid=True
    )
    op.create_check_constraint(
        op.f(ORDER_LINES_CHECK),
        "order_lines",
        "order_id_new IS NOT NULL",
        postgresql_not_valid=True,
    )
    with op.get_context().autocommit_block():
        op.drop_index(
            "uq_orders_id_new", table_name="orders", postgresql_concurrently=True, if_exists=True
        )
        op.drop_index(
            "ix_order_lines_order_id_new",
            table_name="order_lines",
            postgresql_concurrently=True,
            if_exists=True,
        )
