"""A new table has no rows to rewrite."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "volatile_default_good_new_table"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", postgresql.UUID(), server_default=sa.text("gen_random_uuid()")),
        sa.Column("label", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("api_keys")
