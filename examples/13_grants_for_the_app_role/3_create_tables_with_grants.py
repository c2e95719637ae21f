"""comments, invoices and a view, with the application role's grants

When to use: any revision that creates a table, a view or a sequence the
application uses. Grant in the same revision that creates the object, so the
application can use it the moment the revision commits, whichever role ran
the migration: default privileges (2_default_privileges.py) cover only
objects created by the migration role they name.

What the application needs:

- a table: SELECT, INSERT, UPDATE, DELETE;
- a view: SELECT (the view reads its tables with its owner's rights), except
  a view made ``WITH (security_invoker = true)`` (PostgreSQL 15+), which
  reads them with the reader's rights: then SELECT on its tables too;
- a serial column (``invoices.number``, a default of nextval() on the
  sequence ``invoices_number_seq``): USAGE on that sequence, or every INSERT
  fails with "permission denied for sequence invoices_number_seq";
- an identity column (``comments.id``): nothing on its sequence. PostgreSQL
  draws identity values without checking the sequence's privileges (tested
  on 18). Only a direct nextval() or currval() on it needs them.

Run it, like every revision, as the migration role: run as a superuser, its
grants still hold, but the superuser owns the new tables, and a later revision
run as the migration role cannot alter them ("must be owner of table
comments", tested).

Cost: CREATE TABLE with a foreign key takes SHARE ROW EXCLUSIVE on projects for
a moment (writes to projects wait, reads go on); the GRANTs are catalog only.

Dialects: PostgreSQL only; nothing on SQLite, which has no roles or grants.

Downgrade: drops the view and both tables, with every comment and invoice;
their grants go with them.

To use it: copy it into alembic/versions after 2_default_privileges.py.

Revision ID: 326cddc55794
Revises: 6a05cec5474b
Create Date: 2026-11-30 12:42:00.000000

"""

import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op
from alembic.util import CommandError

# revision identifiers, used by Alembic.
revision: str = "326cddc55794"
down_revision: str | Sequence[str] | None = "6a05cec5474b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_APP_ROLE = "app_user"
CREATE_VIEW = (
    "CREATE VIEW project_comment_counts AS "
    "SELECT p.id AS project_id, p.name AS project_name, count(c.id) AS comments "
    "FROM projects AS p LEFT JOIN comments AS c ON c.project_id = p.id "
    "GROUP BY p.id, p.name"
)


def app_role() -> str:
    """The application role: `-x app_role=NAME`, else $APP_ROLE, else app_user."""
    name = (
        context.get_x_argument(as_dictionary=True).get("app_role")
        or os.environ.get("APP_ROLE")
        or DEFAULT_APP_ROLE
    )
    if not op.get_context().as_sql:
        found = op.get_bind().execute(
            sa.text("SELECT 1 FROM pg_roles WHERE rolname = :name"), {"name": name}
        )
        if found.first() is None:
            raise CommandError(
                f'role "{name}" does not exist: create it, or name the application role '
                "with -x app_role=NAME (or APP_ROLE)"
            )
    return name


def upgrade() -> None:
    """Create the objects, then grant the application what it needs on each."""
    if op.get_context().dialect.name != "postgresql":
        return
    # A role name cannot be a bound parameter: the dialect quotes it.
    quote = op.get_context().dialect.identifier_preparer.quote
    app = quote(app_role())
    op.create_table(
        "comments",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), primary_key=True),
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
    )
    op.create_index("ix_comments_project_id", "comments", ["project_id"])
    op.create_table(
        "invoices",
        sa.Column("number", sa.Integer(), primary_key=True),  # SERIAL: invoices_number_seq
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
    )
    op.execute(CREATE_VIEW)
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON comments, invoices TO {app}")
    op.execute(f"GRANT SELECT ON project_comment_counts TO {app}")
    op.execute(f"GRANT USAGE ON SEQUENCE invoices_number_seq TO {app}")


def downgrade() -> None:
    """Drop the view, then the tables; their grants go with them."""
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute("DROP VIEW project_comment_counts")
    op.drop_table("invoices")
    op.drop_index("ix_comments_project_id", table_name="comments")
    op.drop_table("comments")
