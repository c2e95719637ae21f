"""Constant SQL with values as bound parameters."""

import sqlalchemy as sa
from alembic import op

revision = "sql_string_formatting_good_bound_parameters"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        sa.text("UPDATE users SET role = :role WHERE id = :user_id").bindparams(
            role="admin", user_id=1
        )
    )


def downgrade() -> None:
    op.execute(
        sa.text("UPDATE users SET role = :role WHERE id = :user_id").bindparams(
            role="member", user_id=1
        )
    )
