"""Sessions on a connection of their own: what they commit outlives a failed revision."""

import sqlalchemy as sa
from alembic import op
from app.extensions import db
from sqlalchemy import orm

revision = "transaction_control_bad_separate_session_commit"
down_revision = None
branch_labels = None
depends_on = None

engine = sa.create_engine("postgresql://app@localhost/app")


def upgrade() -> None:
    db.session.execute(sa.text("INSERT INTO audit (action) VALUES ('bio')"))
    db.session.commit()  # expect: transaction-control
    session = orm.Session(bind=engine)
    session.execute(sa.text("INSERT INTO audit (action) VALUES ('name')"))
    session.commit()  # expect: transaction-control
    op.alter_column("users", "bio", server_default="")


def downgrade() -> None:
    op.alter_column("users", "bio", server_default=None)
