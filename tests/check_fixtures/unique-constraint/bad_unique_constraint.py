"""A unique constraint builds its index while writes wait."""

from alembic import op

revision = "unique_constraint_bad_unique_constraint"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_unique_constraint("uq_users_email", "users", ["email"])  # expect: unique-constraint


def downgrade() -> None:
    op.drop_constraint("uq_users_email", "users", type_="unique")
