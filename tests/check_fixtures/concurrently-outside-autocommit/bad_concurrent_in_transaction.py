"""CONCURRENTLY inside the migration transaction fails on PostgreSQL."""

from alembic import op

revision = "concurrently_outside_autocommit_bad_concurrent_in_transaction"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(  # expect: concurrently-outside-autocommit
        "ix_users_email", "users", ["email"], postgresql_concurrently=True
    )


def downgrade() -> None:
    op.execute("DROP INDEX CONCURRENTLY ix_users_email")  # expect: concurrently-outside-autocommit
