"""A Python-side default= does not fill existing rows."""

import sqlalchemy as sa
from alembic import op

revision = "add_not_null_without_default_bad_python_default"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(  # expect: add-not-null-without-default
        "users", sa.Column("role", sa.String(20), nullable=False, default="member")
    )


def downgrade() -> None:
    op.drop_column("users", "role")
