"""VACUUM inside an autocommit block runs on its own, outside any transaction."""

from alembic import op

revision = "concurrently_outside_autocommit_good_vacuum_in_autocommit"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute("VACUUM (ANALYZE) users")


def downgrade() -> None:
    pass
