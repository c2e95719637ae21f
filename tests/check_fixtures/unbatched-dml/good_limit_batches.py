"""A LIMITed DELETE repeated until no rows are left, each batch committed on its own."""

import sqlalchemy as sa
from alembic import op

revision = "unbatched_dml_good_limit_batches"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    with op.get_context().autocommit_block():  # each batch commits on its own
        while True:
            result = bind.execute(
                sa.text(
                    "DELETE FROM sessions WHERE id IN "
                    "(SELECT id FROM sessions WHERE expires_at < now() LIMIT 1000)"
                )
            )
            if result.rowcount == 0:
                break


def downgrade() -> None:
    pass
