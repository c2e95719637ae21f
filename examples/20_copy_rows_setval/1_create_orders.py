"""Copy rows with their ids, step 1 of 2: orders and legacy_orders

Stands for the tables your project already has: ``orders`` (the target, an
identity id, GENERATED ALWAYS on PostgreSQL) and ``legacy_orders`` (the
source, whose rows must keep their ids). Skip this file in your project.

When to use: never on its own; the recipe is step 2.

Cost: creates two empty tables.

Dialects: PostgreSQL and SQLite (orders.id is ``INTEGER PRIMARY KEY
AUTOINCREMENT`` there, its counter in ``sqlite_sequence``).

Downgrade: drops both tables and their rows.

To use the recipe: copy step 2 into alembic/versions and set its
down_revision to your own head (``alembic heads``).

Revision ID: 3e669bcbd8c7
Revises: 3525a8febceb
Create Date: 2026-12-02 11:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "3e669bcbd8c7"
down_revision: str | Sequence[str] | None = "3525a8febceb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create orders (identity id) and legacy_orders (serial id)."""
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), sa.Identity(always=True), nullable=False),
        sa.Column("customer", sa.String(length=100), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "legacy_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer", sa.String(length=100), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legacy_orders")),
    )


def downgrade() -> None:
    """Drop both tables."""
    op.drop_table("legacy_orders")
    op.drop_table("orders")
