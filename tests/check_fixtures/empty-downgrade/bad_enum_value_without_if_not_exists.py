"""Without IF NOT EXISTS, upgrading again after this empty downgrade fails: "already exists"."""

from alembic import op

revision = "empty_downgrade_bad_enum_value_without_if_not_exists"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TYPE mood ADD VALUE 'curious'")


def downgrade() -> None:  # expect: empty-downgrade
    pass
