"""Key-range batches that never commit: every batch's row locks last until the end."""

import sqlalchemy as sa
from alembic import op

revision = "unbatched_dml_bad_batches_in_one_transaction"
down_revision = None
branch_labels = None
depends_on = None

BATCH_SIZE = 1000


def upgrade() -> None:
    bind = op.get_bind()
    last_id = bind.execute(sa.text("SELECT coalesce(max(id), 0) FROM users")).scalar_one()
    for lower in range(0, last_id, BATCH_SIZE):
        bind.execute(  # expect: unbatched-dml
            sa.text(
                "UPDATE users SET role = 'member' WHERE id > :lower AND id <= :upper"
            ).bindparams(lower=lower, upper=lower + BATCH_SIZE)
        )


def downgrade() -> None:
    pass
