"""projects.status: a PostgreSQL enum type, VARCHAR + CHECK on SQLite

When to use: a column limited to a few values. On PostgreSQL the values live in
a type (``CREATE TYPE project_status AS ENUM``) that the column uses; the type
is a separate object that ``drop_column`` and ``drop_table`` leave behind. A
downgrade that forgets it makes the next upgrade fail with 'type
"project_status" already exists'.

PostgreSQL: create the type (``checkfirst``: a rerun does not fail), then add
the column with a constant default. SQLite has no enum types: the non-native
form is a VARCHAR column with a named CHECK constraint, added through batch
mode. (``sa.Enum(..., native_enum=False)`` gives the same column, with an
unnamed CHECK unless ``create_constraint=True`` and a name are given.)

Cost: PostgreSQL: ADD COLUMN ... NOT NULL DEFAULT 'active' is a catalog change
since PostgreSQL 11: every existing row reads 'active' without a rewrite; a
moment of ACCESS EXCLUSIVE. SQLite: batch mode copies the table.

Dialects: PostgreSQL (native enum) and SQLite (VARCHAR + CHECK).

Downgrade: drops the column, every status is lost, and on PostgreSQL drops the
type as well (``sa.Enum(name=...).drop(bind, checkfirst=True)``).

To use it: copy this folder's files into alembic/versions and set this file's
down_revision to your own head (``alembic heads``); here it is this project's head.

Revision ID: 06b9083dd417
Revises: 3525a8febceb
Create Date: 2026-11-26 17:08:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "06b9083dd417"
down_revision: str | Sequence[str] | None = "3525a8febceb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The values as of this revision. A later revision that adds one writes its own
# list; it never edits this one.
STATUS_TYPE = postgresql.ENUM("active", "archived", name="project_status", create_type=False)
# op.f(): the name is final. Without it, models.py's naming convention
# ("ck_%(table_name)s_%(constraint_name)s") would prefix it a second time.
CHECK_NAME = "ck_projects_status"


def upgrade() -> None:
    """Add projects.status, 'active' for every existing project."""
    if op.get_context().dialect.name == "postgresql":
        STATUS_TYPE.create(op.get_bind(), checkfirst=True)
        op.add_column(
            "projects",
            sa.Column("status", STATUS_TYPE, server_default="active", nullable=False),
        )
    else:
        with op.batch_alter_table("projects") as batch_op:
            batch_op.add_column(
                sa.Column("status", sa.String(length=20), server_default="active", nullable=False)
            )
            batch_op.create_check_constraint(op.f(CHECK_NAME), "status IN ('active', 'archived')")


def downgrade() -> None:
    """Drop projects.status, and on PostgreSQL its type too."""
    if op.get_context().dialect.name == "postgresql":
        op.drop_column("projects", "status")
        sa.Enum(name="project_status").drop(op.get_bind(), checkfirst=True)
    else:
        with op.batch_alter_table("projects") as batch_op:
            batch_op.drop_constraint(op.f(CHECK_NAME), type_="check")
            batch_op.drop_column("status")
