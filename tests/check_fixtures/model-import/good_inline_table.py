"""Describes just the columns it needs with sa.table()."""

import sqlalchemy as sa
from alembic import op

revision = "model_import_good_inline_table"
down_revision = None
branch_labels = None
depends_on = None

roles = sa.table("roles", sa.column("name", sa.String))


def upgrade() -> None:
    op.bulk_insert(roles, [{"name": "admin"}, {"name": "member"}])


def downgrade() -> None:
    op.execute(roles.delete().where(roles.c.name.in_(["admin", "member"])))
