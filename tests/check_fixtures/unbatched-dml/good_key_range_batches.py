"""One short UPDATE per id range, each committed on its own in autocommit_block()."""

import sqlalchemy as sa
from alembic import op

revision = "unbatched_dml_good_key_range_batches"
down_revision = None
branch_labels = None
depends_on = None

BATCH_SIZE = 1000


def upgrade() -> None:
    bind = op.get_bind()
    last_id = bind.execute(sa.text("SELECT coalesce(max(id), 0) FROM users")).scalar_one()
    with op.get_context().autocommit_block():  # each batch commits on its own
        for lower in range(0, last_id, BATCH_SIZE):
            bind.execute(
                sa.text(
                    "UPDATE users SET role = 'member' WHERE id > :lower AND id <= :upper"
                ).bindparams(lower=lower, upper=lower + BATCH_SIZE)
            )


def downgrade() -> None:
    pass
