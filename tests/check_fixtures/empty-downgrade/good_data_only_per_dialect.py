"""A data-only revision whose statement is picked per dialect from a dict of constants."""

import sqlalchemy as sa
from alembic import op

revision = "empty_downgrade_good_data_only_per_dialect"
down_revision = None
branch_labels = None
depends_on = None

FILL = {
    "postgresql": sa.text("UPDATE users SET initial = left(name, 1) WHERE id = :id"),
    "sqlite": sa.text("UPDATE users SET initial = substr(name, 1, 1) WHERE id = :id"),
}


def upgrade() -> None:
    bind = op.get_bind()
    fill = FILL[bind.dialect.name]
    bind.execute(fill, {"id": 1})


def downgrade() -> None:
    """Nothing to undo: the column's own revision drops it."""
