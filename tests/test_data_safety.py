"""10,000 users through every revision and back: no row changes unless a docstring says so.

What the revisions' docstrings declare, and nothing else, is allowed to change:
the backfill adds users.role (admin for the admin domain), its downgrade drops
that column; the projects revision's downgrade drops projects; the users
revision's downgrade drops users.
"""

from __future__ import annotations

import uuid
from typing import Any

from alembic import command
from alembic.config import Config
from project import BACKFILL_REVISION, execute, revision_ids, revision_module, with_connection
from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import URL

USERS = 10_000
PROJECTS = 2_000

Rows = dict[str, dict[str, dict[str, Any]]]  # table -> primary key -> column -> value


def all_rows(url: URL) -> Rows:
    def read(connection: Connection) -> Rows:
        tables = [t for t in inspect(connection).get_table_names() if t != "alembic_version"]
        return {
            table: {
                row["id"]: dict(row)
                for row in connection.execute(text(f"SELECT * FROM {table}")).mappings()
            }
            for table in tables
        }

    return with_connection(url, read)


def assert_kept(before: Rows, after: Rows, dropped_tables: set[str] = frozenset()) -> None:
    """Every row of ``before`` is in ``after`` with the same values in shared columns."""
    assert set(before) - set(after) == dropped_tables
    for table in set(before) & set(after):
        assert before[table].keys() == after[table].keys(), f"rows added or lost in {table}"
        for key, old in before[table].items():
            new = after[table][key]
            shared = old.keys() & new.keys()
            assert {c: old[c] for c in shared} == {c: new[c] for c in shared}, (table, key)


def seed_users(url: URL) -> None:
    users = [
        {
            "id": str(uuid.UUID(int=i + 1)),
            "email": f"user{i}@mycompany.com" if i % 10 == 0 else f"user{i}@example.com",
            "name": f"User {i}",
        }
        for i in range(USERS)
    ]
    execute(url, "INSERT INTO users (id, email, name) VALUES (:id, :email, :name)", users)


def seed_projects(url: URL) -> None:
    projects = [
        {"id": f"p{i:05d}", "name": f"Project {i}", "owner_id": str(uuid.UUID(int=i * 5 + 1))}
        for i in range(PROJECTS)
    ]
    execute(
        url, "INSERT INTO projects (id, name, owner_id) VALUES (:id, :name, :owner_id)", projects
    )


def test_rows_survive_every_step(alembic_cfg: Config, database_url: URL) -> None:
    create_users, add_projects, backfill = revision_ids()
    assert backfill == BACKFILL_REVISION

    command.upgrade(alembic_cfg, create_users)
    seed_users(database_url)
    at_users = all_rows(database_url)

    command.upgrade(alembic_cfg, add_projects)
    assert_kept(at_users, all_rows(database_url))
    seed_projects(database_url)
    at_projects = all_rows(database_url)

    command.upgrade(alembic_cfg, backfill)
    at_head = all_rows(database_url)
    assert_kept(at_projects, at_head)
    admin_domain = "@" + revision_module(backfill).ADMIN_EMAIL_DOMAIN
    roles = {user["email"]: user["role"] for user in at_head["users"].values()}
    assert roles == {
        email: "admin" if email.endswith(admin_domain) else "member" for email in roles
    }

    command.downgrade(alembic_cfg, add_projects)  # drops users.role, as documented
    assert_kept(at_head, all_rows(database_url))
    assert all("role" not in user for user in all_rows(database_url)["users"].values())

    command.downgrade(alembic_cfg, create_users)  # drops projects, as documented
    assert_kept(at_projects, all_rows(database_url), dropped_tables={"projects"})

    command.upgrade(alembic_cfg, "head")  # users kept their rows all the way
    assert_kept(at_users, all_rows(database_url))
