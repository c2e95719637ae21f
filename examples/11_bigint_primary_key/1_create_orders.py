"""orders.id to bigint, setup: the integer tables this recipe starts from

Stands for the tables your project already has: ``orders`` with an integer
primary key from ``sa.Integer, primary_key=True`` (on PostgreSQL a SERIAL:
the sequence ``orders_id_seq`` AS integer, which stops at 2147483647), and
``order_lines.order_id``, an integer NOT NULL foreign key to it, indexed.
The names follow models.py's naming convention (pk_orders,
fk_order_lines_order_id_orders, ix_order_lines_order_id). Skip this file
when the tables exist; start at 2_add_bigint_columns.py.

When to use: never in your project; the recipe's tests and its lock table
start from it.

Cost: two CREATE TABLEs.

Dialects: PostgreSQL and SQLite. On SQLite an INTEGER PRIMARY KEY is the
rowid, a 64-bit integer already: revisions 2 to 7 do nothing there.

Downgrade: drops both tables; every order is lost.

To use it: copy this folder's files into alembic/versions and set this file's
down_revision to your own head (``alembic heads``); here it is this project's head.

Revision ID: 67902fd28049
Revises: 3525a8febceb
Create Date: 2026-11-27 10:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "67902fd28049"
down_revision: str | Sequence[str] | None = "3525a8febceb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create orders (SERIAL key) and order_lines (integer foreign key, indexed)."""
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
    )
    op.create_table(
        "order_lines",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_lines")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_lines_order_id_orders")
        ),
    )
    op.create_index(op.f("ix_order_lines_order_id"), "order_lines", ["order_id"])


def downgrade() -> None:
    """Drop both tables."""
    op.drop_table("order_lines")
    op.drop_table("orders")
