"""audit_events, a table without a key: the starting point of recipe 12

Stands for the tables your project already has: a legacy, busy table whose
``id`` was never made its primary key and whose ``event_key`` should have been
unique. Do not copy this file; start at 2_check_id_not_null.py with your own
table and columns.

When to use: never on its own; it only gives the recipe's tests and lock
trace a table with rows to work on.

Cost: CREATE TABLE, on a table nobody uses yet.

Dialects: PostgreSQL and SQLite.

Downgrade: drops audit_events and every row in it.

To use the recipe: copy this folder's other files into alembic/versions and set
the first one's down_revision to your own head (``alembic heads``). This file's
down_revision is this project's head; set down_revision to your own head if
you copy it.

Revision ID: e9375b3eaca2
Revises: 3525a8febceb
Create Date: 2026-11-30 13:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "e9375b3eaca2"
down_revision: str | Sequence[str] | None = "3525a8febceb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create audit_events with no primary key and no unique constraint."""
    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger(), nullable=True),
        sa.Column("event_key", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=True),
    )


def downgrade() -> None:
    """Drop audit_events."""
    op.drop_table("audit_events")
