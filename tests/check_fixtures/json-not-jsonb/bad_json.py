"""sa.JSON is json on PostgreSQL."""

import sqlalchemy as sa
from alembic import op

revision = "json_not_jsonb_bad_json"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # expect-below: json-not-jsonb
    op.add_column("users", sa.Column("settings", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "settings")
