"""Declared irreversible: a warning, so the choice is visible."""

import sqlalchemy as sa
from alembic import op

revision = "irreversible_downgrade_bad_not_implemented"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("users", "bio", type_=sa.Text(), existing_type=sa.String(500))


def downgrade() -> None:
    raise NotImplementedError(  # expect: irreversible-downgrade
        "bios longer than 500 characters cannot be narrowed back to varchar(500)"
    )
