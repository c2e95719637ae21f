"""Aliased op functions on a table created in the same revision: nothing runs against it."""

import sqlalchemy as sa
from alembic.op import create_table, drop_column, drop_table

revision = "drop_column_good_aliased_op_imports"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "drafts", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("x", sa.Text())
    )
    drop_column("drafts", "x")


def downgrade() -> None:
    drop_table("drafts")
