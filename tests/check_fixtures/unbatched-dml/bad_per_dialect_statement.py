"""Each dialect's statement is read: both touch every row."""

import sqlalchemy as sa
from alembic import op

revision = "unbatched_dml_bad_per_dialect_statement"
down_revision = None
branch_labels = None
depends_on = None

FILL = {
    "postgresql": sa.text("UPDATE users SET initial = left(name, 1)"),
    "sqlite": sa.text("UPDATE users SET initial = substr(name, 1, 1)"),
}


def upgrade() -> None:
    op.execute(FILL[op.get_context().dialect.name])  # expect: unbatched-dml


def downgrade() -> None:
    pass
