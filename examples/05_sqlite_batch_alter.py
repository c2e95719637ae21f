"""projects.name: widen to 200 characters, add a named CHECK and a named UNIQUE

When to use: changing a column's type or adding constraints on SQLite, whose
ALTER TABLE cannot do either ("No support for ALTER of constraints in SQLite
dialect"). ``op.batch_alter_table`` creates the new table, copies every row,
drops the old one and renames the new one, keeping the data, the other
columns, indexes and foreign keys, which it reads from the database.

Name every constraint: batch mode finds the old ones by name, and a later
revision can only drop a constraint it can name. Alembic 1.20 warns when a
table rebuild would drop an unnamed CHECK.

Cost: SQLite: a full copy of projects while holding the database's write lock,
and twice the table's size on disk during it. It fails if a row breaks a new
constraint; find those rows first (blank names, duplicate (owner_id, name)).

PostgreSQL: the same code runs, without a copy: batch mode emits plain ALTER
TABLE statements there. The widening is a catalog change (no rewrite), but the
CHECK scans projects under ACCESS EXCLUSIVE and the UNIQUE builds its index
under ACCESS EXCLUSIVE. On a big PostgreSQL table add the check NOT VALID and
validate it later (recipe 02, recipe 06), and build the unique index
concurrently, then attach it with ``ADD CONSTRAINT ... UNIQUE USING INDEX``.

Dialects: SQLite (the reason for the recipe) and PostgreSQL (small tables).

Downgrade: drops both constraints and narrows name back to 100 characters. No
data is lost, but on PostgreSQL it fails with "value too long for type
character varying(100)" while any name is longer than 100 characters; SQLite
does not enforce VARCHAR lengths and keeps such names as they are.

To use it: copy this file into alembic/versions and set down_revision to your
own head (``alembic heads``); here it is this project's head.

Revision ID: e02d967405c5
Revises: 3525a8febceb
Create Date: 2026-11-26 17:10:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "e02d967405c5"
down_revision: str | Sequence[str] | None = "3525a8febceb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# op.f(): the name is final. Without it, models.py's naming convention
# ("ck_%(table_name)s_%(constraint_name)s") would prefix it a second time.
CHECK_NAME = "ck_projects_name_not_blank"
UNIQUE_NAME = "uq_projects_owner_id_name"


def upgrade() -> None:
    """Widen projects.name; names must be non-blank and unique per owner."""
    with op.batch_alter_table("projects") as batch_op:
        batch_op.alter_column(
            "name",
            existing_type=sa.String(length=100),
            type_=sa.String(length=200),
            existing_nullable=False,
        )
        # check: ignore[constraint-not-valid] SQLite recipe; on big PostgreSQL tables see recipe 02
        batch_op.create_check_constraint(op.f(CHECK_NAME), "trim(name) <> ''")
        # check: ignore[unique-constraint] SQLite recipe; PostgreSQL: unique index concurrently
        batch_op.create_unique_constraint(UNIQUE_NAME, ["owner_id", "name"])


def downgrade() -> None:
    """Drop both constraints and narrow projects.name back to 100 characters."""
    with op.batch_alter_table("projects") as batch_op:
        batch_op.drop_constraint(UNIQUE_NAME, type_="unique")
        batch_op.drop_constraint(op.f(CHECK_NAME), type_="check")
        batch_op.alter_column(
            "name",
            existing_type=sa.String(length=200),
            type_=sa.String(length=100),
            existing_nullable=False,
        )
