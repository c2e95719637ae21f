"""batch_alter_table operations are checked like op.*."""

import sqlalchemy as sa
from alembic import op

revision = "drop_column_bad_batch_drop_column"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("nickname")  # expect: drop-column


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("nickname", sa.Text(), nullable=True))
