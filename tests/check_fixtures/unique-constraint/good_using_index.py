"""Builds the unique index concurrently, then attaches it as the constraint."""

from alembic import op

revision = "unique_constraint_good_using_index"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.create_index(
            "uq_users_email", "users", ["email"], unique=True, postgresql_concurrently=True
        )
    op.execute("ALTER TABLE users ADD CONSTRAINT uq_users_email UNIQUE USING INDEX uq_users_email")


def downgrade() -> None:
    op.drop_constraint("uq_users_email", "users", type_="unique")
