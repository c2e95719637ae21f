"""Recipe 13: the application role gets exactly the rights it needs, up and down.

Migrations run as a migration role that is no superuser and owns the test's
database (so it has CREATE on schema public, which PostgreSQL 15+ no longer
gives to PUBLIC). The application connects as a login role with no rights of
its own: it reads and writes what the revisions grant, and is refused before
the grants and after the downgrades. Roles belong to the whole server, which
other tests share: their names are unique, and they go away at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cookbook import Recipe, prepare, seed_projects, seed_users
from postgres import execute_autocommit
from project import RECIPES, alembic, example_revision, execute, fetch, url_text
from sqlalchemy import pool
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

import migrate

SETUP, DEFAULTS, TABLES = (example_revision(f) for f in RECIPES["grants"])
DENIED = "permission denied for"
NO_SCHEMA = 'relation "users" does not exist'


@dataclass
class Roles:
    admin: URL  # a superuser, in the test's database
    migrator: URL  # the migration role: owns the database, no superuser
    app: URL  # the application role: LOGIN and nothing else
    app_name: str


@pytest.fixture
def roles(postgres_server_url: URL) -> Iterator[Roles]:
    suffix = uuid.uuid4().hex[:8]
    migrator, app, database = f"migrator_{suffix}", f"app_{suffix}", f"grants_{suffix}"
    passwords = {migrator: uuid.uuid4().hex, app: uuid.uuid4().hex}
    asyncio.run(
        execute_autocommit(
            postgres_server_url,
            f"CREATE ROLE {migrator} LOGIN PASSWORD '{passwords[migrator]}'",
            f"CREATE ROLE {app} LOGIN PASSWORD '{passwords[app]}'",
            f"CREATE DATABASE {database} OWNER {migrator}",
        )
    )
    admin = postgres_server_url.set(database=database)
    try:
        yield Roles(
            admin=admin,
            migrator=admin.set(username=migrator, password=passwords[migrator]),
            app=admin.set(username=app, password=passwords[app]),
            app_name=app,
        )
    finally:
        # The database goes first, with every object and privilege of both roles in it.
        asyncio.run(
            execute_autocommit(
                postgres_server_url,
                f"DROP DATABASE {database} WITH (FORCE)",
                f"DROP ROLE {app}",
                f"DROP ROLE {migrator}",
            )
        )


def as_migrator(tmp_path: Path, roles: Roles, monkeypatch: pytest.MonkeyPatch) -> Recipe:
    """The project at its head, migrated by the migration role, with the recipe installed."""
    recipe = prepare(tmp_path, roles.migrator, monkeypatch)
    recipe.install(*RECIPES["grants"])
    recipe.config.cmd_opts = argparse.Namespace(x=[f"app_role={roles.app_name}"])
    return recipe


def denied(url: URL, sql: str, why: str = DENIED) -> pytest.ExceptionInfo[DBAPIError]:
    with pytest.raises(DBAPIError, match=why) as refused:
        execute(url, sql)
    return refused


def database_is_ready(url: URL, recipe: Recipe, monkeypatch: pytest.MonkeyPatch) -> bool:
    """``await migrate.database_is_ready(engine)`` on the recipe's project, as ``url``'s role."""
    monkeypatch.setattr(migrate, "ALEMBIC_INI", recipe.project / "alembic.ini")

    async def check() -> bool:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        try:
            return await migrate.database_is_ready(engine)
        finally:
            await engine.dispose()

    return asyncio.run(check())


def test_app_role_reads_and_writes_what_is_granted_and_nothing_more(
    tmp_path: Path, roles: Roles, monkeypatch: pytest.MonkeyPatch
) -> None:
    recipe = as_migrator(tmp_path, roles, monkeypatch)
    owner, other = seed_users(recipe, ["Ada Lovelace", "Grace Hopper"])
    (engine,) = seed_projects(recipe, ["Engine"], owner=owner)
    app = roles.app
    # A hardened cluster: the application's USAGE on schema public must come from revision 2.
    # Without it, schema public is not searched: its tables "do not exist".
    execute(roles.admin, "REVOKE USAGE ON SCHEMA public FROM PUBLIC")

    recipe.upgrade(SETUP)  # the role exists: nothing to do
    denied(app, "SELECT count(*) FROM users", NO_SCHEMA)
    denied(app, "SELECT count(*) FROM public.users", "permission denied for schema public")

    recipe.upgrade(DEFAULTS)  # the tables that exist
    assert fetch(app, "SELECT name FROM users ORDER BY name") == [
        ("Ada Lovelace",),
        ("Grace Hopper",),
    ]
    execute(app, f"UPDATE projects SET name = 'Engine 2' WHERE id = '{engine}'")
    # The application reads the version row, never moves it.
    assert fetch(app, "SELECT version_num FROM alembic_version") == [(DEFAULTS,)]
    denied(app, "UPDATE alembic_version SET version_num = 'x'")
    denied(app, "INSERT INTO alembic_version VALUES ('x')")
    denied(app, "DELETE FROM alembic_version")
    denied(app, "CREATE TABLE app_made (id int)")  # rows only, no DDL

    recipe.upgrade(TABLES)
    assert database_is_ready(app, recipe, monkeypatch)  # its readiness check, as itself
    ((comment,),) = fetch(
        app, f"INSERT INTO comments (project_id, body) VALUES ('{engine}', 'first') RETURNING id"
    )
    ((invoice,),) = fetch(app, "INSERT INTO invoices (amount_cents) VALUES (1250) RETURNING number")
    execute(app, f"UPDATE comments SET body = 'edited' WHERE id = {comment}")
    execute(app, "INSERT INTO invoices (amount_cents) VALUES (99)")
    execute(app, f"DELETE FROM invoices WHERE number = {invoice}")
    assert fetch(app, "SELECT project_name, comments FROM project_comment_counts") == [
        ("Engine 2", 1)
    ]
    assert fetch(app, "SELECT body FROM comments") == [("edited",)]
    assert fetch(app, "SELECT amount_cents FROM invoices") == [(99,)]
    denied(
        app, "DROP TABLE comments", "must be owner of table comments"
    )  # the migration role owns it

    recipe.downgrade(DEFAULTS)  # comments and invoices are gone, with their rows
    assert recipe.rows(
        "SELECT count(*) FROM pg_class WHERE relname IN "
        "('comments', 'invoices', 'project_comment_counts', 'invoices_number_seq')"
    ) == [(0,)]

    recipe.downgrade(SETUP)
    denied(app, "SELECT count(*) FROM users", NO_SCHEMA)
    # With the schema usable again, the tables' own grants are gone too.
    execute(roles.admin, "GRANT USAGE ON SCHEMA public TO PUBLIC")
    denied(app, "SELECT count(*) FROM projects")
    denied(app, "SELECT count(*) FROM users")
    denied(app, "SELECT version_num FROM alembic_version")
    assert recipe.rows(
        "SELECT count(*) FROM pg_default_acl AS d, aclexplode(d.defaclacl) AS a "
        f"WHERE a.grantee = '{roles.app_name}'::regrole"
    ) == [(0,)]
    execute(roles.migrator, "CREATE TABLE made_after_downgrade (id int)")
    denied(app, "SELECT * FROM made_after_downgrade")  # no default privileges left
    assert recipe.rows("SELECT id, name FROM users ORDER BY id") == [
        (owner, "Ada Lovelace"),
        (other, "Grace Hopper"),
    ]
    assert recipe.rows("SELECT name FROM projects") == [("Engine 2",)]


def test_default_privileges_follow_only_the_migration_roles_new_objects(
    tmp_path: Path, roles: Roles, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Objects the migration role creates later are covered; a superuser's are not."""
    recipe = as_migrator(tmp_path, roles, monkeypatch)
    (engine,) = seed_projects(recipe, ["Engine"])
    recipe.upgrade(DEFAULTS)
    app = roles.app

    execute(roles.migrator, "CREATE TABLE later (id serial PRIMARY KEY, note text)")
    execute(app, "INSERT INTO later (note) VALUES ('ok')")  # table and sequence covered
    execute(roles.admin, "CREATE TABLE by_superuser (id serial PRIMARY KEY, note text)")
    denied(app, "INSERT INTO by_superuser (note) VALUES ('no')")
    # Revision 2's GRANT ON ALL TABLES, run by the migration role, fails on a table
    # it has no rights on: run revision 2 as the owner of every table, or a superuser.
    denied(roles.migrator, f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {roles.app_name}")

    # Revision 3 run by a superuser: the default privileges do not apply to what
    # it creates, the revision's own GRANTs do.
    monkeypatch.setenv("DATABASE_URL", url_text(roles.admin))
    recipe.upgrade(TABLES)
    assert recipe.rows("SELECT tableowner FROM pg_tables WHERE tablename = 'comments'") == [
        (roles.admin.username,)
    ]
    execute(app, f"INSERT INTO comments (project_id, body) VALUES ('{engine}', 'hi')")
    execute(app, "INSERT INTO invoices (amount_cents) VALUES (5)")
    assert fetch(app, "SELECT comments FROM project_comment_counts") == [(1,)]
    # Hence: run revisions as the migration role, which cannot alter what the superuser owns.
    denied(
        roles.migrator,
        "ALTER TABLE comments ADD COLUMN note text",
        "must be owner of table comments",
    )


def test_what_sequences_and_views_need(roles: Roles) -> None:
    """What revision 3 grants on sequences and views, and why.

    A serial column needs USAGE on its sequence, an identity column nothing; USAGE
    allows nextval() and currval(), SELECT only currval() and reading the sequence
    row. A view needs SELECT on itself, a security_invoker view on its tables too.
    """
    execute(roles.admin, "CREATE TABLE by_serial (id serial PRIMARY KEY, note text)")
    execute(
        roles.admin, "CREATE TABLE by_identity (id int GENERATED ALWAYS AS IDENTITY, note text)"
    )
    execute(roles.admin, f"GRANT SELECT, INSERT ON by_serial, by_identity TO {roles.app_name}")
    app = roles.app

    execute(app, "INSERT INTO by_identity (note) VALUES ('no sequence grant needed')")
    refused = denied(app, "INSERT INTO by_serial (note) VALUES ('refused')")
    assert "permission denied for sequence by_serial_id_seq" in str(refused.value)
    denied(app, "SELECT nextval('by_identity_id_seq')")  # called directly, it is checked

    execute(roles.admin, f"GRANT USAGE ON SEQUENCE by_serial_id_seq TO {roles.app_name}")
    execute(app, "INSERT INTO by_serial (note) VALUES ('now it works')")
    assert fetch(app, "SELECT note FROM by_serial") == [("now it works",)]
    assert fetch(app, "SELECT nextval('by_serial_id_seq'), currval('by_serial_id_seq')") == [(2, 2)]
    denied(app, "SELECT last_value FROM by_serial_id_seq")  # that takes SELECT
    execute(roles.admin, f"GRANT SELECT ON SEQUENCE by_identity_id_seq TO {roles.app_name}")
    assert fetch(app, "SELECT last_value FROM by_identity_id_seq") == [(1,)]
    denied(app, "SELECT nextval('by_identity_id_seq')")  # SELECT alone draws no value
    # currval() passes the privilege check; it fails only for having no value yet.
    denied(app, "SELECT currval('by_identity_id_seq')", "not yet defined in this session")

    execute(roles.admin, "CREATE VIEW by_owner AS SELECT note FROM by_identity")
    execute(
        roles.admin,
        "CREATE VIEW by_reader WITH (security_invoker = true) AS SELECT note FROM by_identity",
    )
    execute(roles.admin, f"REVOKE SELECT ON by_identity FROM {roles.app_name}")
    execute(roles.admin, f"GRANT SELECT ON by_owner, by_reader TO {roles.app_name}")
    assert fetch(app, "SELECT note FROM by_owner") == [("no sequence grant needed",)]
    denied(app, "SELECT note FROM by_reader", "permission denied for table by_identity")


def test_a_missing_app_role_stops_the_upgrade_with_one_line(
    tmp_path: Path, roles: Roles, monkeypatch: pytest.MonkeyPatch
) -> None:
    recipe = as_migrator(tmp_path, roles, monkeypatch)
    missing = f"nobody_{uuid.uuid4().hex[:8]}"
    env = {"DATABASE_URL": url_text(roles.migrator)}

    result = alembic(recipe.project, f"alembic -x app_role={missing} upgrade head", env)

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        f'ERROR [alembic.util.messaging] role "{missing}" does not exist: create it, '
        "or name the application role with -x app_role=NAME (or APP_ROLE)"
    )
    assert recipe.current() == SETUP  # the setup could not create it, and said nothing
    ok = alembic(recipe.project, f"alembic -x app_role={roles.app_name} upgrade head", env)
    assert ok.returncode == 0, ok.stderr
    assert recipe.current() == TABLES


def test_a_superuser_runs_revision_2_for_the_migration_role(
    tmp_path: Path, roles: Roles, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tables of another owner: a superuser runs revision 2, FOR ROLE names the migrator.

    Here env.py also keeps the version table in a schema of its own
    (version_table_schema): revision 2 finds it there, and the application reads it.
    """
    recipe = as_migrator(tmp_path, roles, monkeypatch)
    execute(roles.admin, "CREATE TABLE legacy (id int)")
    execute(roles.admin, "INSERT INTO legacy VALUES (1)")
    recipe.upgrade(SETUP)
    execute(roles.migrator, "CREATE SCHEMA ops")
    execute(roles.migrator, "ALTER TABLE alembic_version SET SCHEMA ops")
    env_py = recipe.project / "alembic" / "env.py"
    option = '"transaction_per_migration": True,'
    env_py.write_text(
        env_py.read_text().replace(option, f'{option} "version_table_schema": "ops",')
    )
    migrator = roles.migrator.username
    recipe.config.cmd_opts = argparse.Namespace(
        x=[f"app_role={roles.app_name}", f"migration_role={migrator}"]
    )
    monkeypatch.setenv("DATABASE_URL", url_text(roles.admin))

    recipe.upgrade(DEFAULTS)

    assert fetch(roles.app, "SELECT id FROM legacy") == [(1,)]
    assert fetch(roles.app, "SELECT version_num FROM ops.alembic_version") == [(DEFAULTS,)]
    denied(roles.app, "UPDATE ops.alembic_version SET version_num = 'x'")
    execute(roles.migrator, "CREATE TABLE later (id serial PRIMARY KEY, note text)")
    execute(roles.app, "INSERT INTO later (note) VALUES ('covered')")
    recipe.downgrade(SETUP)
    assert fetch(roles.migrator, "SELECT version_num FROM ops.alembic_version") == [(SETUP,)]
    denied(roles.app, "SELECT version_num FROM ops.alembic_version")
    assert fetch(
        roles.admin,
        f"SELECT has_table_privilege('{roles.app_name}', 'ops.alembic_version', 'SELECT')",
    ) == [(False,)]  # no grant left behind: not only the schema's USAGE is gone
    denied(roles.app, "SELECT id FROM legacy")
    execute(roles.migrator, "CREATE TABLE after_downgrade (id int)")
    denied(roles.app, "SELECT * FROM after_downgrade")
