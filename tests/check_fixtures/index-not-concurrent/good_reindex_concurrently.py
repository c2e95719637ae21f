"""REINDEX CONCURRENTLY, in an autocommit block, lets writes go on."""

from alembic import op

revision = "index_not_concurrent_good_reindex_concurrently"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_orders_placed_at", "orders", ["placed_at"], postgresql_concurrently=True
        )
        op.execute("REINDEX INDEX CONCURRENTLY ix_orders_user_id")
        op.execute("REINDEX (CONCURRENTLY) TABLE users")


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index("ix_orders_placed_at", table_name="orders", postgresql_concurrently=True)
