"""projects.reviewer_id, step 3 of 4: the foreign key, NOT VALID

When to use: adding a foreign key to a table with rows. A plain ADD FOREIGN KEY
checks every existing row while it holds SHARE ROW EXCLUSIVE on both projects
and users: no writes to either table until the scan ends.

PostgreSQL: ``ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID``, from
``postgresql_not_valid=True``, here passed through ``batch_alter_table``, which
on PostgreSQL emits plain ALTER TABLE. (Autogenerate renders that keyword into
a revision since alembic 1.16.2, #1671, when the model or a rewriter carries it;
the DDL itself comes from SQLAlchemy.) No scan: the lock lasts a moment. From
the commit on, every insert and update of projects.reviewer_id is checked;
existing rows wait for revision 4's VALIDATE. Revision 2 indexed reviewer_id
first: the key's checks on DELETE and UPDATE of users use that index.

Choose ``ondelete=`` before this revision ships. With the default (NO
ACTION, as here), from this revision's commit on a DELETE of a user whom a
project names as reviewer fails ('update or delete on table "users" violates
foreign key constraint'), in the application's existing delete path too, NOT
VALID or not. ``ondelete="SET NULL"`` suits an optional reviewer.

SQLite: batch mode copies the table with the foreign key in it; NOT VALID does
not exist there. SQLite enforces foreign keys only on connections that ran
``PRAGMA foreign_keys = ON``.

Cost: PostgreSQL: a moment of SHARE ROW EXCLUSIVE on both tables. SQLite: a
copy of projects under the database's write lock.

Dialects: PostgreSQL and SQLite.

Downgrade: drops the foreign key. No data is lost.

Revision ID: 19a75aa0f8ce
Revises: 61e488cd7a10
Create Date: 2026-11-26 17:12:00.000000

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "19a75aa0f8ce"
down_revision: str | Sequence[str] | None = "61e488cd7a10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FK_NAME = "fk_projects_reviewer_id_users"


def upgrade() -> None:
    """Add the foreign key without checking the existing rows (PostgreSQL)."""
    with op.batch_alter_table("projects") as batch_op:
        batch_op.create_foreign_key(
            FK_NAME, "users", ["reviewer_id"], ["id"], postgresql_not_valid=True
        )


def downgrade() -> None:
    """Drop the foreign key."""
    with op.batch_alter_table("projects") as batch_op:
        batch_op.drop_constraint(FK_NAME, type_="foreignkey")
