"""rollback, release N+1: add users.locale (expand only: the app alone can roll back)

When to use: the usual release. It only adds: a column with a server default
(or a nullable one), a new table. Code of the previous release never names
``locale``, and its inserts still work because the server fills the default.
If release N+1 must be rolled back, redeploy release N and leave the schema
alone (path 1, app-only rollback): its readiness check (``python migrate.py
ready``) reports ready on a database at a revision it does not know, and its
startup ``alembic upgrade head`` logs one warning and migrates nothing.

Cost: ADD COLUMN with a constant default: a moment of ACCESS EXCLUSIVE on
PostgreSQL (11+), no rewrite. SQLite adds it in place.

Dialects: PostgreSQL and SQLite.

Downgrade: drops ``locale``: every locale chosen since the deploy is lost. An
app-only rollback needs no downgrade, and keeps them.

To use it: copy this folder's files into alembic/versions and set this file's
down_revision to your own head (``alembic heads``); here it is this project's head.

Revision ID: 45614e1c68a9
Revises: 3525a8febceb
Create Date: 2026-11-30 13:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "45614e1c68a9"
down_revision: str | Sequence[str] | None = "3525a8febceb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add users.locale; the server default keeps old code's inserts working."""
    op.add_column(
        "users",
        sa.Column("locale", sa.String(length=20), nullable=False, server_default="en"),
    )


def downgrade() -> None:
    """Drop users.locale; batch mode rebuilds the table on SQLite."""
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("locale")
