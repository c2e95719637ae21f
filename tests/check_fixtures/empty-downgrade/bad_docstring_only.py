"""A docstring alone is still an empty downgrade."""

from alembic import op

revision = "empty_downgrade_bad_docstring_only"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")


def downgrade() -> None:  # expect: empty-downgrade
    """Nothing to do."""
