"""On SQLite too: batch mode copies the existing rows into the new table, and the copy
fails on a NOT NULL column without a default."""

import sqlalchemy as sa
from alembic import op

revision = "add_not_null_without_default_bad_not_null_on_sqlite"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        # expect-below: add-not-null-without-default
        batch_op.add_column(sa.Column("plan", sa.String(20), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("plan")
