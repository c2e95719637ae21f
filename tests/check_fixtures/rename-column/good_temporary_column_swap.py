"""A swap: add a temporary column, fill it, drop the old one, give the new one its name.

Renaming the column added above harms nobody; dropping the old one is the risk,
and drop-column reports it (suppressed here, with the reason it is safe).
"""

import sqlalchemy as sa
from alembic import op

revision = "rename_column_good_temporary_column_swap"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # check: ignore[downgrade-missing-drop] renamed to value below; downgrade() renames it back
    op.add_column("variable", sa.Column("json_value", sa.Text(), nullable=True))
    # check: ignore[drop-column] the release before this one reads json_value only
    op.drop_column("variable", "value")
    op.alter_column("variable", "json_value", new_column_name="value")


def downgrade() -> None:
    op.alter_column("variable", "value", new_column_name="json_value")
    op.add_column("variable", sa.Column("value", sa.String(), nullable=True))
