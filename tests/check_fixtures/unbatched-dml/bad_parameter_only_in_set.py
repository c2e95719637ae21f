"""A bound value in SET does not bound the rows touched."""

import sqlalchemy as sa
from alembic import op

revision = "unbatched_dml_bad_parameter_only_in_set"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(  # expect: unbatched-dml
        sa.text("UPDATE users SET role = :role WHERE role IS NULL").bindparams(role="member")
    )


def downgrade() -> None:
    pass
