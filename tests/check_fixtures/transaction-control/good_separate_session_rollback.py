"""Rolling back a session of its own leaves Alembic's transaction alone."""

import sqlalchemy as sa
from alembic import op
from app.extensions import db

revision = "transaction_control_good_separate_session_rollback"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    db.session.rollback()  # drop whatever the app's session had pending
    op.add_column("users", sa.Column("bio", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "bio")
