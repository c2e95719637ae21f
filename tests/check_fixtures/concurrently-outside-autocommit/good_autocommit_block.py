"""The autocommit block commits first, then runs CONCURRENTLY on its own."""

from alembic import op

revision = "concurrently_outside_autocommit_good_autocommit_block"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.create_index("ix_users_email", "users", ["email"], postgresql_concurrently=True)


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_users_email")
