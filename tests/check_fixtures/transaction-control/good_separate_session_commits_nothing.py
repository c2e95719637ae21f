"""A separate session that ran nothing commits nothing: no work outlives a failed revision.

The UPDATE runs on Alembic's connection and commits with the migration; the
session's commit() is a no-op (Redash has this shape).
"""

import sqlalchemy as sa
from alembic import op
from app import db

revision = "transaction_control_good_separate_session_commits_nothing"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("users", "bio", server_default="")


def downgrade() -> None:
    connection = op.get_bind()
    connection.execute(sa.text("UPDATE users SET bio = '' WHERE id = 1"))
    db.session.commit()
    op.alter_column("users", "bio", server_default=None)
