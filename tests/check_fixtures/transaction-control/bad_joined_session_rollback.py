"""A Session bound to Alembic's connection passes rollback() on to Alembic's transaction."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy import orm

revision = "transaction_control_bad_joined_session_rollback"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True))
    session = orm.Session(bind=op.get_bind())
    session.execute(sa.text("INSERT INTO notes (id) VALUES (1)"))
    session.rollback()  # expect: transaction-control
    owned = orm.Session(bind=op.get_bind(), join_transaction_mode="control_fully")
    owned.commit()  # expect: transaction-control


def downgrade() -> None:
    op.drop_table("notes")
