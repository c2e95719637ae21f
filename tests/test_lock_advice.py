"""The drop, rename and retry advice in references/, checked on PostgreSQL.

Each test makes one claim of checks.md or deploying.md happen on a real
server: what a NOT NULL column does to the new code's inserts between two
deploys, which tables a foreign key drags into a drop's ACCESS EXCLUSIVE
lock, what a view standing in for a renamed table lets an application role
do, and how long queries queue behind a migration that waits for its lock.
"""

from __future__ import annotations

import ast
import asyncio
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command, op
from alembic.config import Config
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from project import PROJECT_DIR, execute, fetch, transaction_held, with_connection
from sqlalchemy import Connection, pool, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from models import Base

CHECKS_MD = (PROJECT_DIR / "references" / "checks.md").read_text()


def section_block(heading: str) -> str:
    """The Python block under ``## heading`` in checks.md."""
    section = CHECKS_MD.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, f"checks.md#{heading} has no Python block"
    return match[1]


def upgrades(code: str) -> list[Callable[[], None]]:
    """Each ``def upgrade()`` of a block, in order ("revision N", "revision N+1")."""
    tree = ast.parse(code)
    functions = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "upgrade":
            namespace: dict[str, Any] = {"op": op, "sa": sa}
            constants = [n for n in tree.body if not isinstance(n, ast.FunctionDef)]
            module = ast.Module([*constants, node], type_ignores=[])
            exec(compile(module, "checks.md", "exec"), namespace)
            functions.append(namespace["upgrade"])
    return functions


def run_online(url: URL, step: Callable[[], None]) -> None:
    """One revision's upgrade() on ``url``, in one transaction, with this project's metadata."""

    def run(connection: Connection) -> None:
        context = MigrationContext.configure(connection, opts={"target_metadata": Base.metadata})
        with Operations.context(context):
            step()

    with_connection(url, run)


# --- drop-column: a NOT NULL column breaks the new code's inserts ------------------


def test_dropping_a_not_null_column_starts_by_relaxing_it(postgresql_url: URL) -> None:
    release_1, release_2 = upgrades(section_block("drop-column"))
    execute(postgresql_url, "CREATE TABLE users (id integer PRIMARY KEY, nickname text NOT NULL)")
    new_code_insert = "INSERT INTO users (id) VALUES (:id)"  # the model lost nickname

    with pytest.raises(DBAPIError, match='null value in column "nickname"'):
        execute(postgresql_url, new_code_insert, [{"id": 1}])

    run_online(postgresql_url, release_1)
    execute(postgresql_url, new_code_insert, [{"id": 1}])
    run_online(postgresql_url, release_2)
    assert fetch(postgresql_url, "SELECT * FROM users") == [(1,)]


# --- a dropped foreign key locks the table it points to -----------------------------

FOREIGN_KEY_DROPS = {
    "drop-column": "ALTER TABLE projects DROP COLUMN owner_id",
    "drop-constraint": "ALTER TABLE projects DROP CONSTRAINT fk_projects_owner_id_users",
    "drop-table": "DROP TABLE projects",
}


@pytest.mark.parametrize("drop", FOREIGN_KEY_DROPS)
def test_dropping_a_foreign_key_locks_the_referenced_table(
    drop: str, alembic_cfg_postgresql: Config, postgresql_url: URL
) -> None:
    """projects.owner_id references users: the drop takes ACCESS EXCLUSIVE on users too."""
    command.upgrade(alembic_cfg_postgresql, "head")

    with transaction_held(postgresql_url, FOREIGN_KEY_DROPS[drop]):
        modes = fetch(
            postgresql_url,
            "SELECT mode FROM pg_locks WHERE relation = 'users'::regclass AND granted "
            "AND pid <> pg_backend_pid()",
        )
    assert ("AccessExclusiveLock",) in modes


# --- rename-table: the view under the old name needs grants of its own --------------


def as_role(url: URL, role: tuple[str, str], statement: str) -> list[tuple[Any, ...]]:
    """Run ``statement`` logged in as the application role."""
    name, password = role
    return fetch(url.set(username=name, password=password), statement)


def test_view_for_a_renamed_table_carries_the_tables_grants(
    postgresql_url: URL, app_role: tuple[str, str]
) -> None:
    (rename,) = upgrades(section_block("rename-table"))
    execute(postgresql_url, 'CREATE TABLE "user" (id integer PRIMARY KEY, email text)')
    execute(postgresql_url, "INSERT INTO \"user\" VALUES (1, 'a@example.com')")
    execute(postgresql_url, f'GRANT SELECT, INSERT, UPDATE ON "user" TO {app_role[0]}')
    rename_only = [
        'ALTER TABLE "user" RENAME TO users',
        'CREATE VIEW "user" AS SELECT * FROM users',
    ]

    def run(connection: Connection, statements: list[str]) -> None:
        for statement in statements:
            connection.exec_driver_sql(statement)

    with_connection(postgresql_url, lambda c: run(c, rename_only))
    with pytest.raises(DBAPIError, match=r'permission denied for view "?user'):
        as_role(postgresql_url, app_role, 'SELECT * FROM "user"')
    undo = ['DROP VIEW "user"', 'ALTER TABLE users RENAME TO "user"']
    with_connection(postgresql_url, lambda c: run(c, undo))

    run_online(postgresql_url, rename)
    assert as_role(postgresql_url, app_role, 'SELECT id, email FROM "user"') == [
        (1, "a@example.com")
    ]
    as_role(
        postgresql_url, app_role, "INSERT INTO \"user\" VALUES (2, 'b@example.com') RETURNING id"
    )
    assert fetch(postgresql_url, "SELECT id FROM users ORDER BY id") == [(1,), (2,)]
    # DELETE was never granted on the table, and the view does not grant it either.
    with pytest.raises(DBAPIError, match="permission denied"):
        as_role(postgresql_url, app_role, 'DELETE FROM "user" RETURNING id')


# --- hot tables: every second an ALTER waits, queries queue behind it ---------------


def test_queries_queue_behind_a_waiting_alter_until_it_gives_up(
    alembic_cfg_postgresql: Config, postgresql_url: URL
) -> None:
    """A reader blocks the ALTER; a second reader then waits for the ALTER, not the first."""
    command.upgrade(alembic_cfg_postgresql, "head")
    events: dict[str, float] = {}

    async def alter() -> None:
        engine = create_async_engine(postgresql_url, poolclass=pool.NullPool)
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SET lock_timeout = '1s'"))
                try:
                    await connection.execute(text("ALTER TABLE users ADD COLUMN nickname text"))
                except DBAPIError as exc:
                    assert "lock timeout" in str(exc)
                    events["alter gave up"] = time.monotonic()
        finally:
            await engine.dispose()

    def read() -> None:
        fetch(postgresql_url, "SELECT count(*) FROM users")
        events["second reader done"] = time.monotonic()

    with (
        ThreadPoolExecutor(2) as sessions,
        transaction_held(postgresql_url, "SELECT count(*) FROM users"),
    ):
        altering = sessions.submit(asyncio.run, alter())
        assert waiting_on_lock(postgresql_url, "ALTER TABLE users%")
        reading = sessions.submit(read)
        assert waiting_on_lock(postgresql_url, "SELECT count(*) FROM users")
        altering.result(timeout=30)
        reading.result(timeout=30)
        events["first reader done"] = time.monotonic()

    # It waited on a lock (above) that only the queued ALTER could hold it behind, and it
    # finished while the first reader still held its lock: the ALTER was what it waited for.
    assert "alter gave up" in events
    assert events["second reader done"] < events["first reader done"]


def waiting_on_lock(url: URL, query_like: str, timeout: float = 10) -> bool:
    """Whether a session running ``query_like`` waits on a lock within ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = fetch(
            url,
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            f"AND query LIKE '{query_like}'",
        )
        if rows != [(0,)]:
            return True
        time.sleep(0.02)
    return False


# --- the migration lock: why waiters poll -------------------------------------------


def test_a_blocked_advisory_lock_call_deadlocks_a_concurrent_build(
    alembic_cfg_postgresql: Config, postgresql_url: URL
) -> None:
    """Even outside a transaction block, a session blocked in pg_advisory_lock() holds
    a snapshot; the lock holder's CREATE INDEX CONCURRENTLY waits for it: deadlock."""
    command.upgrade(alembic_cfg_postgresql, "head")
    lock = text("SELECT pg_advisory_lock(42)")

    async def race() -> tuple[str, str]:
        engine = create_async_engine(
            postgresql_url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT"
        )
        try:
            async with engine.connect() as holder, engine.connect() as waiter:
                await holder.execute(lock)

                async def wait() -> str:
                    try:
                        await waiter.execute(lock)
                    except DBAPIError as exc:
                        return str(exc.orig)
                    return "locked"

                waiting = asyncio.create_task(wait())
                for _ in range(200):
                    blocked = await holder.scalar(
                        text(
                            "SELECT count(*) FROM pg_stat_activity "
                            "WHERE wait_event = 'advisory' AND backend_xmin IS NOT NULL"
                        )
                    )
                    if blocked:
                        break
                    await asyncio.sleep(0.05)
                else:
                    raise AssertionError("the waiter never blocked holding a snapshot")
                try:
                    await holder.execute(
                        text("CREATE INDEX CONCURRENTLY ix_users_name ON users (name)")
                    )
                    built = "built"
                except DBAPIError as exc:
                    built = str(exc.orig)
                await holder.execute(text("SELECT pg_advisory_unlock(42)"))
                return built, await asyncio.wait_for(waiting, 30)
        finally:
            await engine.dispose()

    outcomes = asyncio.run(race())
    # PostgreSQL breaks the cycle by cancelling one side, usually the waiter.
    assert any("deadlock detected" in outcome for outcome in outcomes), outcomes
