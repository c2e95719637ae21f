"""view project_owners: create it

When to use: a view (or a trigger, a function) that models.py does not
describe: autogenerate neither creates nor compares it, so it lives in
``op.execute`` SQL written by hand. Each revision holds the full definition it
creates, as a constant, and never imports it from elsewhere: a revision is a
snapshot, and later edits of a shared definition would change history.

Cost: catalog only.

Dialects: PostgreSQL and SQLite (the SQL is plain).

Downgrade: drops the view. No table data is lost.

To use it: copy this folder's files into alembic/versions and set this file's
down_revision to your own head (``alembic heads``); here it is this project's head.

Revision ID: 10fa815c17dd
Revises: 3525a8febceb
Create Date: 2026-11-26 17:19:00.000000

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "10fa815c17dd"
down_revision: str | Sequence[str] | None = "3525a8febceb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CREATE_VIEW = (
    "CREATE VIEW project_owners AS "
    "SELECT p.id AS project_id, p.name AS project_name, u.email AS owner_email "
    "FROM projects AS p LEFT JOIN users AS u ON u.id = p.owner_id"
)


def upgrade() -> None:
    """Create the view."""
    op.execute(CREATE_VIEW)


def downgrade() -> None:
    """Drop the view."""
    op.execute("DROP VIEW project_owners")
