"""VACUUM, REINDEX SCHEMA and REINDEX ... CONCURRENTLY refuse to run in a transaction."""

import sqlalchemy as sa
from alembic import op

revision = "concurrently_outside_autocommit_bad_refused_in_transaction"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("nickname", sa.Text(), nullable=True))
    op.execute("VACUUM ANALYZE users")  # expect: concurrently-outside-autocommit
    op.execute("REINDEX TABLE CONCURRENTLY users")  # expect: concurrently-outside-autocommit
    # expect-below: concurrently-outside-autocommit, index-not-concurrent
    op.execute("REINDEX SCHEMA public")


def downgrade() -> None:
    op.drop_column("users", "nickname")
