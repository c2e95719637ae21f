"""Builds the index concurrently, outside the transaction."""

from alembic import op

revision = "index_not_concurrent_good_concurrent_index"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_users_email",
            "users",
            ["email"],
            postgresql_concurrently=True,
            if_not_exists=True,
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index(
            "ix_users_email", table_name="users", postgresql_concurrently=True, if_exists=True
        )
