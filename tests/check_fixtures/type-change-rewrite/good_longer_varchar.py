"""A longer varchar only changes the catalog."""

import sqlalchemy as sa
from alembic import op

revision = "type_change_rewrite_good_longer_varchar"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("users", "email", type_=sa.String(320), existing_type=sa.String(255))


def downgrade() -> None:
    op.alter_column("users", "email", type_=sa.String(255), existing_type=sa.String(320))
