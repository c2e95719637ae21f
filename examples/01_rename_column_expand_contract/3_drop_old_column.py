"""rename users.name, step 3 of 3 (contract): drop users.name

When to use: once release C runs everywhere and nothing reads or writes
``name``. See 1_add_new_column.py for the deploy order. Dropping it earlier
breaks the old code still running: the ORM names every mapped column in its
queries.

Cost: PostgreSQL drops the column in the catalog (a moment of ACCESS
EXCLUSIVE, no rewrite; the space is reclaimed as rows are rewritten). SQLite
copies the table through batch mode.

Dialects: PostgreSQL and SQLite.

Downgrade: adds ``name`` back, nullable, and copies ``display_name`` into it in
committed batches, so no value is lost; a rerun after a failure part way
continues. Deploy release B again after it.

Revision ID: 4113b352b03e
Revises: 3b11da1eb2b5
Create Date: 2026-11-26 17:03:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "4113b352b03e"
down_revision: str | Sequence[str] | None = "3b11da1eb2b5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH_SIZE = 5000

NEXT_BATCH_END = sa.text(
    "SELECT max(id) FROM "
    "(SELECT id FROM users WHERE id > :after ORDER BY id LIMIT :batch_size) AS batch"
)
RESTORE_BATCH = sa.text(
    "UPDATE users SET name = display_name "
    "WHERE id > :after AND id <= :through "
    "AND name IS NULL AND display_name IS NOT NULL"
)


def upgrade() -> None:
    """Drop the old column; nothing uses it any more."""
    with op.batch_alter_table("users") as batch_op:
        # check: ignore[drop-column] contract step: release C no longer maps users.name
        batch_op.drop_column("name")


def restore_names(bind: sa.Connection, batch_size: int = BATCH_SIZE) -> None:
    """Fill name from display_name, one committed batch at a time."""
    after = ""
    while True:
        through = bind.execute(NEXT_BATCH_END, {"after": after, "batch_size": batch_size}).scalar()
        if through is None:
            return
        bind.execute(RESTORE_BATCH, {"after": after, "through": through})
        after = through


def downgrade() -> None:
    """Add name back and refill it from display_name in batches.

    The column is added only when missing: the ADD COLUMN commits before the
    batches, so a rerun after a failure part way finds it there.
    """
    columns = sa.inspect(op.get_bind()).get_columns("users")
    if not any(column["name"] == "name" for column in columns):
        op.add_column("users", sa.Column("name", sa.String(length=100), nullable=True))
    with op.get_context().autocommit_block():
        restore_names(op.get_bind())
