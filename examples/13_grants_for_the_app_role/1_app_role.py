"""grants, setup: the application role

Stands for the tables your project already has, and here for the role your
cluster already has: the application's login role, which only reads and
writes rows. Roles belong to the whole server and are made by whoever manages
the cluster (a DBA, Terraform), not by a project's migrations: do not copy this
file. It creates the role NOLOGIN when it is missing and the current role may
create roles, so the recipe runs on a bare test server; otherwise it does
nothing, and revision 2 stops with a one-line message.

When to use: never in your project; see 2_default_privileges.py.

Cost: catalog only.

Dialects: PostgreSQL only; nothing on SQLite, which has no roles.

Downgrade: nothing: the role may serve other databases of the cluster.

To use the recipe: copy 2_ and 3_ into alembic/versions and set the
down_revision to your own head (``alembic heads``); here it is this project's head.

Revision ID: b4c90a7a403c
Revises: 3525a8febceb
Create Date: 2026-11-30 12:40:00.000000

"""

import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

# revision identifiers, used by Alembic.
revision: str = "b4c90a7a403c"
down_revision: str | Sequence[str] | None = "3525a8febceb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_APP_ROLE = "app_user"


def app_role() -> str:
    """`-x app_role=NAME`, else $APP_ROLE, else app_user."""
    return (
        context.get_x_argument(as_dictionary=True).get("app_role")
        or os.environ.get("APP_ROLE")
        or DEFAULT_APP_ROLE
    )


def upgrade() -> None:
    """Create the role NOLOGIN if it is missing and this role may create roles."""
    if op.get_context().dialect.name != "postgresql" or op.get_context().as_sql:
        return
    role = app_role()
    found = op.get_bind().execute(
        sa.text(
            "SELECT (SELECT count(*) FROM pg_roles WHERE rolname = :role), "
            "rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user"
        ),
        {"role": role},
    )
    exists, may_create = found.one()
    if not exists and may_create:
        # A role name cannot be a bound parameter: the dialect quotes it.
        quote = op.get_context().dialect.identifier_preparer.quote
        op.execute(f"CREATE ROLE {quote(role)} NOLOGIN")


def downgrade() -> None:  # check: ignore[empty-downgrade]  the role outlives this database
    """Keep the role: it belongs to the cluster, not to this database."""
