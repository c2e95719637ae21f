"""now() and CURRENT_TIMESTAMP are stable: stored once in the catalog, no rewrite."""

import sqlalchemy as sa
from alembic import op

revision = "volatile_default_good_now"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
    )
    op.add_column(
        "users",
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()")),
    )
    op.add_column(
        "users",
        sa.Column("seen_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP")),
    )


def downgrade() -> None:
    op.drop_column("users", "seen_at")
    op.drop_column("users", "updated_at")
    op.drop_column("users", "created_at")
