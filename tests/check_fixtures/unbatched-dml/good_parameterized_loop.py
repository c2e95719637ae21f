"""One committed, parameterized statement per iteration is a batch, whatever the key is called."""

import sqlalchemy as sa
from alembic import op

revision = "unbatched_dml_good_parameterized_loop"
down_revision = None
branch_labels = None
depends_on = None

NEXT_BATCH = sa.text(
    "SELECT max(code) FROM (SELECT code FROM countries WHERE code > :after "
    "ORDER BY code LIMIT 500) AS batch"
)
FILL_BATCH = sa.text(
    "UPDATE countries SET name_upper = upper(name) WHERE code > :after AND code <= :through"
)


def upgrade() -> None:
    bind = op.get_bind()
    after = ""
    with op.get_context().autocommit_block():  # each batch commits on its own
        while (through := bind.execute(NEXT_BATCH, {"after": after}).scalar()) is not None:
            bind.execute(FILL_BATCH, {"after": after, "through": through})
            after = through


def downgrade() -> None:
    pass
