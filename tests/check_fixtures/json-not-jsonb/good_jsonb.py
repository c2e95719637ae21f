"""JSONB directly, or as the PostgreSQL variant of a portable JSON."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "json_not_jsonb_good_jsonb"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("settings", postgresql.JSONB(), nullable=True))
    op.add_column(
        "users",
        sa.Column(
            "preferences",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=True,
        ),
    )


def downgrade() -> None:
    op.drop_column("users", "preferences")
    op.drop_column("users", "settings")
