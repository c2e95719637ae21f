"""view project_owners: add owner_name; the downgrade restores the previous view

When to use: changing a view that an earlier revision created. This revision
holds both definitions, copied verbatim: the new one for upgrade() and the one
revision 1 created for downgrade().

PostgreSQL: ``CREATE OR REPLACE VIEW`` keeps the view's grants and the objects
that depend on it, but it can only add columns at the end: it cannot drop,
rename or retype one ("cannot drop columns from view"). So the upgrade, which
appends ``owner_name``, replaces in place; the downgrade, which removes it,
drops the view and creates the previous one, in one transaction, so readers
never see it missing. Grants belong to the view object and go with DROP VIEW:
the downgrade reads them first and gives them again to the new view, or every
role that could read it gets "permission denied for view". A DROP VIEW fails
while other views depend on this one: recreate those in the same revision (do
not reach for CASCADE, which drops them silently). SQLite has no CREATE OR
REPLACE VIEW: both directions drop and create.

Cost: catalog only; DROP VIEW takes ACCESS EXCLUSIVE on the view for a moment.

Dialects: PostgreSQL and SQLite.

Downgrade: restores revision 1's definition exactly, with the view's grants.
No table data is lost.

Revision ID: 3d351df86261
Revises: 10fa815c17dd
Create Date: 2026-11-26 17:20:00.000000

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "3d351df86261"
down_revision: str | Sequence[str] | None = "10fa815c17dd"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_SELECT = (
    "SELECT p.id AS project_id, p.name AS project_name, u.email AS owner_email, "
    "u.name AS owner_name "
    "FROM projects AS p LEFT JOIN users AS u ON u.id = p.owner_id"
)
REPLACE_VIEW = "CREATE OR REPLACE VIEW project_owners AS " + NEW_SELECT
CREATE_VIEW = "CREATE VIEW project_owners AS " + NEW_SELECT
# Revision 1's definition, copied verbatim: what the downgrade must put back.
PREVIOUS_VIEW = (
    "CREATE VIEW project_owners AS "
    "SELECT p.id AS project_id, p.name AS project_name, u.email AS owner_email "
    "FROM projects AS p LEFT JOIN users AS u ON u.id = p.owner_id"
)
# PostgreSQL: drop and create keeping the grants. One DO block reads the grants
# before the drop and gives them again after the create, all server-side, so
# it also renders with --sql.
RECREATE_PREVIOUS_VIEW_WITH_GRANTS = (
    "DO $$ DECLARE grants text[]; statement text; BEGIN "
    "SELECT coalesce(array_agg(format('GRANT %s ON project_owners TO %s%s', a.privilege_type, "
    "CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END, "
    "CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)), '{}') INTO grants "
    "FROM pg_class AS c CROSS JOIN LATERAL aclexplode(c.relacl) AS a "
    "WHERE c.oid = 'project_owners'::regclass AND a.grantee <> c.relowner; "
    "DROP VIEW project_owners; " + PREVIOUS_VIEW + "; "
    "FOREACH statement IN ARRAY grants LOOP EXECUTE statement; END LOOP; END $$"
)


def upgrade() -> None:
    """Append owner_name to the view."""
    if op.get_context().dialect.name == "postgresql":
        op.execute(REPLACE_VIEW)
    else:
        op.execute("DROP VIEW project_owners")
        op.execute(CREATE_VIEW)


def downgrade() -> None:
    """Put revision 1's view back: drop, then create, with its grants on PostgreSQL."""
    if op.get_context().dialect.name == "postgresql":
        op.execute(RECREATE_PREVIOUS_VIEW_WITH_GRANTS)
    else:
        op.execute("DROP VIEW project_owners")
        op.execute(PREVIOUS_VIEW)
