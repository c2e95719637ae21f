"""orders.id to bigint, step 6 of 7: VALIDATE the foreign key on the bigint column

When to use: after revision 5, which added the foreign key NOT VALID (see
2_add_bigint_columns.py for the order).

``VALIDATE CONSTRAINT`` in ``autocommit_block()``: it checks every line's
order under SHARE UPDATE EXCLUSIVE on order_lines and ROW SHARE on orders,
so reads and writes go on, and it commits on its own. The rows were checked
by the old foreign key when they were written and the triggers copied them,
so it fails only if something changed the new column behind the triggers'
back; ``SELECT l.id FROM order_lines l LEFT JOIN orders o ON o.id =
l.order_id WHERE o.id IS NULL`` finds those.

Cost: one scan of order_lines and an index lookup in orders per line, without
blocking writers.

Dialects: PostgreSQL only; nothing to do on SQLite.

Downgrade: does nothing: a validated constraint cannot be made NOT VALID
again, and revision 5's downgrade replaces it.

Revision ID: a5aae1b1ea3f
Revises: 412d99df20b6
Create Date: 2026-11-27 10:05:00.000000

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "a5aae1b1ea3f"
down_revision: str | Sequence[str] | None = "412d99df20b6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Check the existing lines against orders, without blocking writes."""
    if op.get_context().dialect.name != "postgresql":
        return
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE order_lines VALIDATE CONSTRAINT fk_order_lines_order_id_orders")


def downgrade() -> None:
    """Nothing to undo: revision 5's downgrade replaces the constraint."""
