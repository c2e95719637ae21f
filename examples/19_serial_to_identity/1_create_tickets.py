"""Serial to identity, step 1 of 3: the tickets table, with a serial id

Stands for the tables your project already has: a table whose integer primary
key was created as ``sa.Integer`` with ``primary_key=True``, which PostgreSQL
gets as SERIAL (a sequence ``tickets_id_seq`` owned by the column, and the
default ``nextval('tickets_id_seq'::regclass)``). Skip this file in your
project; start at step 2.

When to use: never on its own; the recipe's own steps are 2 and 3.

Cost: creates an empty table.

Dialects: PostgreSQL and SQLite. On SQLite the id is ``INTEGER PRIMARY KEY
AUTOINCREMENT`` (``sqlite_autoincrement=True``), whose counter lives in
``sqlite_sequence``; SQLite writes that PRIMARY KEY inline, without a name.

Downgrade: drops the table and its rows.

To use the recipe: copy steps 2 and 3 into alembic/versions and set step 2's
down_revision to your own head (``alembic heads``); here this setup file's
down_revision is this project's head.

Revision ID: a2e51256831e
Revises: 3525a8febceb
Create Date: 2026-12-02 10:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "a2e51256831e"
down_revision: str | Sequence[str] | None = "3525a8febceb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create tickets with a serial id and an index on status."""
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_tickets_status"), "tickets", ["status"])


def downgrade() -> None:
    """Drop tickets, with its sequence (owned by the column)."""
    op.drop_index(op.f("ix_tickets_status"), table_name="tickets")
    op.drop_table("tickets")
