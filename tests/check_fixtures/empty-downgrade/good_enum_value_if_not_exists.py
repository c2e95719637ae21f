"""An enum value added with IF NOT EXISTS: PostgreSQL cannot drop it, and a rerun is harmless."""

from alembic import op

revision = "empty_downgrade_good_enum_value_if_not_exists"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TYPE state_type ADD VALUE IF NOT EXISTS 'CRASHED';")


def downgrade() -> None:
    # removing values from enums is not possible without recreating the column
    pass
