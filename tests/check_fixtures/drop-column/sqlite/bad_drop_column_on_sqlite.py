"""On SQLite too, code still running during the deploy reads the dropped column."""

from alembic import op

revision = "drop_column_bad_drop_column_on_sqlite"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_users_email", "users", ["email"])
    op.drop_column("users", "nickname")  # expect: drop-column


def downgrade() -> None:
    raise NotImplementedError("the dropped values are gone")  # expect: irreversible-downgrade
