"""Core data moves do not hide a schema change next to them."""

import sqlalchemy as sa
from alembic import op

revision = "empty_downgrade_bad_core_data_and_schema"
down_revision = None
branch_labels = None
depends_on = None

settings = sa.table("settings", sa.column("id", sa.Integer), sa.column("key"), sa.column("value"))


def upgrade() -> None:
    bind = op.get_bind()
    bind.execute(sa.schema.CreateSequence(sa.Sequence("ticket_number_seq")))
    bind.execute(settings.insert().values(key="ticket_sequence", value="ticket_number_seq"))
    rows = bind.execute(sa.select(settings.c.id, settings.c.key)).all()
    print(rows)


def downgrade() -> None:  # expect: empty-downgrade
    pass
