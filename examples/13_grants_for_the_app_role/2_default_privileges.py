"""grants for the application role, once: existing tables and default privileges

When to use: the application connects as its own role, which may read and
write rows but owns nothing and runs no DDL, while migrations run as the role
that owns the schema. Run this revision once; every later revision that
creates a table, a view or a sequence grants on it too (3_create_tables_with_grants.py).

Names come from the command line, never from the code, so that each
environment keeps its own roles:
``alembic -x app_role=NAME -x migration_role=NAME upgrade head`` (else
$APP_ROLE, else app_user; the migration role defaults to the role running
the migration, and ``--sql`` needs it named). A missing application role
stops the upgrade with one line that says so. Role names cannot be bound
parameters: they are quoted by the dialect's ``identifier_preparer.quote()``.

What it does:

1. ``GRANT USAGE ON SCHEMA public``: PostgreSQL gives it to PUBLIC, but a
   hardened cluster revokes that, and then no table grant helps (tested).
2. ``GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public`` (and
   ``USAGE, SELECT ON ALL SEQUENCES``): the tables that already exist. A
   table the running role has no rights on (made by another role) fails it
   with "permission denied for table ...": then run this revision as a
   superuser, with ``-x migration_role=NAME``.
3. The version table (in env.py's ``version_table_schema``, else public):
   ``REVOKE ALL``, then ``GRANT SELECT``. The application may read the
   version row, never move it: its readiness check
   (``migrate.database_is_ready(engine)`` on its own engine) reads it.
4. ``ALTER DEFAULT PRIVILEGES FOR ROLE <migration role> IN SCHEMA public
   GRANT ... ON TABLES / ON SEQUENCES``: tables and sequences created LATER
   BY THAT ROLE get the grants. It does nothing for tables that already exist
   (step 2 is for those), and nothing for objects another role creates: a
   revision run as a superuser or a DBA's own role gives the application no
   rights on its tables. Hence the explicit GRANTs in every later revision.

Cost: catalog only; GRANT takes no lock on the tables.

Dialects: PostgreSQL only; nothing on SQLite, which has no roles or grants.

Downgrade: revokes the default privileges (with the same FOR ROLE: run it as,
or as a member of, the same migration role), every table and sequence
privilege of the application role in schema public, its SELECT on the version
table and its USAGE on the schemas, including any that were granted outside
the migrations. No data is lost.

To use it: copy this file and 3_ into alembic/versions and set this file's
down_revision to your own head (``alembic heads``); here it is the setup file.

Revision ID: 6a05cec5474b
Revises: b4c90a7a403c
Create Date: 2026-11-30 12:41:00.000000

"""

import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op
from alembic.util import CommandError

# revision identifiers, used by Alembic.
revision: str = "6a05cec5474b"
down_revision: str | Sequence[str] | None = "b4c90a7a403c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_APP_ROLE = "app_user"


def app_role() -> str:
    """The application role: `-x app_role=NAME`, else $APP_ROLE, else app_user.

    Stops with one line when the role does not exist.
    """
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


def migration_role() -> str:
    """The role that creates the objects: `-x migration_role=NAME`, else the one running this."""
    name = context.get_x_argument(as_dictionary=True).get("migration_role")
    if name:
        return name
    if op.get_context().as_sql:
        raise CommandError("--sql cannot ask the server who runs it: add -x migration_role=NAME")
    return op.get_bind().execute(sa.text("SELECT current_user")).scalar_one()


def upgrade() -> None:
    """Grant on what exists, then on what the migration role creates from now on."""
    if op.get_context().dialect.name != "postgresql":
        return
    quote = op.get_context().dialect.identifier_preparer.quote
    app = quote(app_role())
    owner = quote(migration_role())
    # The version table is in env.py's version_table_schema when it sets one, else public.
    version_schema = quote(op.get_context().version_table_schema or "public")
    version_table = quote(op.get_context().version_table)
    # PUBLIC has USAGE on schema public unless the cluster revoked it.
    op.execute(f"GRANT USAGE ON SCHEMA public, {version_schema} TO {app}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app}")
    # USAGE allows nextval() (a serial column's default) and currval(); SELECT
    # allows currval() and reading the sequence row (SELECT last_value FROM it).
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {app}")
    # The application may read the version row (its readiness check does), never move it.
    op.execute(f"REVOKE ALL ON {version_schema}.{version_table} FROM {app}")
    op.execute(f"GRANT SELECT ON {version_schema}.{version_table} TO {app}")
    op.execute(
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}"
    )
    op.execute(
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        f"GRANT USAGE, SELECT ON SEQUENCES TO {app}"
    )


def downgrade() -> None:
    """Take the default privileges back, then the grants on what exists."""
    if op.get_context().dialect.name != "postgresql":
        return
    quote = op.get_context().dialect.identifier_preparer.quote
    app = quote(app_role())
    owner = quote(migration_role())
    op.execute(
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        f"REVOKE USAGE, SELECT ON SEQUENCES FROM {app}"
    )
    op.execute(
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        f"REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {app}"
    )
    version_schema = quote(op.get_context().version_table_schema or "public")
    version_table = quote(op.get_context().version_table)
    op.execute(f"REVOKE ALL ON {version_schema}.{version_table} FROM {app}")
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {app}")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {app}")
    op.execute(f"REVOKE USAGE ON SCHEMA public, {version_schema} FROM {app}")
