"""The same change written to be reversible."""

import sqlalchemy as sa
from alembic import op

revision = "irreversible_downgrade_good_reversible"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("users", "bio", type_=sa.Text(), existing_type=sa.String(500))


def downgrade() -> None:
    op.alter_column("users", "bio", type_=sa.String(500), existing_type=sa.Text())
