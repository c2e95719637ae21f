"""The follow-up revision: VALIDATE only needs SHARE UPDATE EXCLUSIVE."""

from alembic import op

revision = "constraint_not_valid_good_validate_later"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE orders VALIDATE CONSTRAINT fk_orders_user_id")


def downgrade() -> None:
    """Validation changes no schema; there is nothing to undo."""
