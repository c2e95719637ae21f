"""Sessions bound to op.get_bind() join Alembic's transaction: their commit() stays inside it."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy import orm
from sqlalchemy.orm import Session, sessionmaker

revision = "transaction_control_good_session_bound_to_alembic"
down_revision = None
branch_labels = None
depends_on = None


class Base(orm.DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"
    id = sa.Column(sa.Integer, primary_key=True)
    body = sa.Column(sa.String(40))


def _add_note(session: Session, body: str) -> None:
    session.add(Note(body=body))
    session.commit()


def upgrade() -> None:
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("body", sa.String(40)),
    )
    Session(bind=op.get_bind()).commit()
    bind = op.get_bind()
    session = orm.Session(bind=bind)
    session.add(Note(body="first"))
    session.commit()
    factory = sessionmaker(bind=bind)
    factory().commit()
    sessionmaker(bind)().commit()
    with Session(bind=op.get_bind()) as scoped:
        scoped.add(Note(body="second"))
        scoped.commit()
    _add_note(orm.Session(bind=bind), "third")
    savepoint = orm.Session(bind=bind, join_transaction_mode="create_savepoint")
    savepoint.rollback()
    nested = bind.begin_nested()
    nested.commit()


def downgrade() -> None:
    op.drop_table("notes")
