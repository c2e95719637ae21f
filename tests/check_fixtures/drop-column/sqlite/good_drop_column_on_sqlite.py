"""A SQLite database is a file on one host: a deploy restarts the application, so no old
code runs beside the new schema, and drops and renames are not reported there."""

import sqlalchemy as sa
from alembic import op

revision = "drop_column_good_drop_column_on_sqlite"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("nickname")
    op.rename_table("sessions", "logins")


def downgrade() -> None:
    op.rename_table("logins", "sessions")
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("nickname", sa.String(50), nullable=True))
