"""A bound parameter in WHERE still matches every row it likes: one long UPDATE."""

import sqlalchemy as sa
from alembic import op

revision = "unbatched_dml_bad_parameter_in_where"
down_revision = None
branch_labels = None
depends_on = None

PROMOTE_ALL = sa.text(
    "UPDATE users SET role = 'admin' "
    "WHERE role = 'member' AND lower(email) LIKE :email_pattern ESCAPE '!'"
)


def upgrade() -> None:
    bind = op.get_bind()
    bind.execute(PROMOTE_ALL, {"email_pattern": "%@example.com"})  # expect: unbatched-dml
    op.execute(  # expect: unbatched-dml
        sa.text("DELETE FROM users WHERE created_at < :cutoff").bindparams(cutoff="2020-01-01")
    )


def downgrade() -> None:
    pass
