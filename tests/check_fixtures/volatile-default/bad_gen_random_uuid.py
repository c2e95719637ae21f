"""gen_random_uuid() must be evaluated for every existing row."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "volatile_default_bad_gen_random_uuid"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(  # expect: volatile-default
        "users",
        sa.Column(
            "public_id",
            postgresql.UUID(),
            server_default=sa.text("gen_random_uuid()"),
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("users", "public_id")
