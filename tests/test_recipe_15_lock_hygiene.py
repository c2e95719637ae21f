"""Recipe 15: look for old lockers, then lock hot tables in one order, on a real server.

Other sessions here are real PostgreSQL sessions in threads of their own: an
idle-in-transaction session holding users, an application transaction that
reads users then projects. The refusal, the wait, the role's
idle_in_transaction_session_timeout and the deadlock (or its absence) all
happen on the server; nothing is simulated.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from alembic.util import CommandError
from cookbook import Recipe, seed_projects, seed_users
from project import RECIPES, example_revision, execute, fetch
from sqlalchemy import pool, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine

(FILE,) = RECIPES["lock_hygiene"]
REVISION = example_revision(FILE)
LOGGER = "alembic.lock_hygiene"


class Session:
    """One PostgreSQL session in a thread of its own; statements run on request.

    Its transaction stays open between statements, as an application's does:
    ``run("COMMIT")`` commits it.
    """

    def __init__(self, url: URL) -> None:
        self.requests: queue.Queue[str | None] = queue.Queue()
        self.results: queue.Queue[tuple[bool, Any]] = queue.Queue()
        self.thread = threading.Thread(target=lambda: asyncio.run(self.serve(url)), daemon=True)
        self.thread.start()

    async def serve(self, url: URL) -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        try:
            async with engine.connect() as connection:
                while (sql := await asyncio.to_thread(self.requests.get)) is not None:
                    try:
                        if sql == "COMMIT":
                            await connection.commit()
                            self.results.put((True, None))
                        else:
                            result = await connection.execute(text(sql))
                            self.results.put((True, result.all() if result.returns_rows else None))
                    except Exception as exc:  # handed to the test
                        self.results.put((False, exc))
        except Exception:  # a session the server ended cannot roll back
            pass
        finally:
            await engine.dispose()

    def submit(self, sql: str) -> None:
        self.requests.put(sql)

    def result(self, timeout: float = 30) -> Any:
        ok, value = self.results.get(timeout=timeout)
        if not ok:
            raise value
        return value

    def run(self, sql: str) -> Any:
        self.submit(sql)
        return self.result()

    def close(self) -> None:
        self.requests.put(None)
        self.thread.join(30)


@contextmanager
def session(url: URL) -> Iterator[Session]:
    opened = Session(url)
    try:
        yield opened
    finally:
        opened.close()


def idle_in_transaction_on(url: URL, table: str) -> tuple[Session, int]:
    """A session that read ``table`` and sits idle in its transaction; and its pid."""
    held = Session(url)
    ((pid,),) = held.run("SELECT pg_backend_pid()")
    held.run(f"SELECT count(*) FROM {table}")
    return held, pid


def with_settings(recipe: Recipe, **settings: object) -> None:
    recipe.config.cmd_opts = argparse.Namespace(x=[f"{k}={v}" for k, v in settings.items()])


def in_background(fn: Callable[[], None]) -> Future[None]:
    executor = ThreadPoolExecutor(1)
    future = executor.submit(fn)
    executor.shutdown(wait=False)
    return future


def columns_added(recipe: Recipe) -> tuple[bool, bool]:
    return "suspended_at" in recipe.columns("users"), "suspended_at" in recipe.columns("projects")


class Lines(logging.Handler):
    """The recipe's log lines, with an event set by the first one."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self.first = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
        self.first.set()


@pytest.fixture
def recipe_log() -> Iterator[Lines]:
    logger = logging.getLogger(LOGGER)
    lines = Lines()
    logger.addHandler(lines)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield lines
    finally:
        logger.removeHandler(lines)
        logger.setLevel(level)


# Up and down, with data -----------------------------------------------------------------


def test_lock_hygiene_up_and_down(recipe: Recipe) -> None:
    names = ["Ada", "Grace", "Plato"]
    users = seed_users(recipe, names)
    projects = seed_projects(recipe, ["Apollo", "Zeta"], owner=users[0])
    recipe.install(FILE)

    recipe.upgrade()
    assert recipe.current() == REVISION
    assert columns_added(recipe) == (True, True)
    assert recipe.rows("SELECT id, name, suspended_at FROM users ORDER BY id") == [
        (i, n, None) for i, n in zip(users, names, strict=True)
    ]
    recipe.run("UPDATE projects SET suspended_at = CURRENT_TIMESTAMP WHERE id = :id", [
        {"id": projects[0]}
    ])  # fmt: skip

    # Documented loss: both columns and their values; the rows stay.
    recipe.downgrade()
    assert recipe.current() == recipe.base
    assert columns_added(recipe) == (False, False)
    assert recipe.rows("SELECT id, name FROM users ORDER BY id") == list(
        zip(users, names, strict=True)
    )
    assert recipe.rows("SELECT id, owner_id FROM projects ORDER BY id") == [
        (p, users[0]) for p in projects
    ]
    recipe.upgrade()  # and up again: nothing was left behind
    assert columns_added(recipe) == (True, True)


# The look for old lockers ----------------------------------------------------------------


def test_refuses_while_an_old_idle_transaction_holds_a_target_table(
    postgresql_recipe: Recipe,
) -> None:
    recipe = postgresql_recipe
    recipe.install(FILE)
    held, pid = idle_in_transaction_on(recipe.url, "users")
    try:
        time.sleep(1.1)  # older than blocker_age_seconds=1
        with_settings(recipe, blocker_age_seconds=1, blocker_wait_seconds=0)
        started = time.monotonic()
        with pytest.raises(CommandError) as refused:
            recipe.upgrade()
        assert time.monotonic() - started < 5  # refused at once, not after lock_timeout
    finally:
        held.close()
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(
        "refusing to lock users, projects: 1 transaction(s) older than 1s hold or wait for "
        f"locks on them: pid {pid} (idle in transaction, transaction open "
    )
    assert "locks users, query 'SELECT count(*) FROM users')" in message
    assert "Check what they are (pg_stat_activity: application_name, client_addr, query)" in message
    assert f"then end them with SELECT pg_terminate_backend(pid) for pid {pid}, or wait" in message
    # Nothing applied: no column, the version unchanged.
    assert recipe.current() == recipe.base
    assert columns_added(recipe) == (False, False)


def test_waits_for_an_old_transaction_that_ends_in_time(
    postgresql_recipe: Recipe, recipe_log: Lines
) -> None:
    recipe = postgresql_recipe
    recipe.install(FILE)
    held, pid = idle_in_transaction_on(recipe.url, "projects")
    try:
        time.sleep(1.1)
        with_settings(recipe, blocker_age_seconds=1, blocker_wait_seconds=10)
        upgrade = in_background(recipe.upgrade)
        assert recipe_log.first.wait(10), "the recipe never said it was waiting"
        time.sleep(0.6)  # another poll, another line
        held.run("COMMIT")  # the old transaction ends
        upgrade.result(timeout=10)
    finally:
        held.close()
    assert recipe.current() == REVISION
    assert columns_added(recipe) == (True, True)
    assert len(recipe_log.lines) >= 2
    for line in recipe_log.lines:
        assert line.startswith("waiting for 1 old transaction(s) on users, projects (")
        assert f"pid {pid} (idle in transaction, transaction open " in line
        assert "locks projects, query 'SELECT count(*) FROM projects')" in line


def test_an_old_transaction_on_other_tables_is_no_blocker(postgresql_recipe: Recipe) -> None:
    recipe = postgresql_recipe
    recipe.install(FILE)
    recipe.run("CREATE TABLE reports (id integer)")
    held, _ = idle_in_transaction_on(recipe.url, "reports")
    try:
        time.sleep(1.1)
        with_settings(recipe, blocker_age_seconds=1, blocker_wait_seconds=0)
        recipe.upgrade()
    finally:
        held.close()
    assert recipe.current() == REVISION


def test_only_client_sessions_count_not_parallel_workers(postgresql_recipe: Recipe) -> None:
    """Only client backends count: a parallel worker's lock on users is not listed."""
    recipe = postgresql_recipe
    recipe.install(FILE)
    seed_users(recipe, ["Ada"])
    with session(recipe.url) as app:
        ((leader,),) = app.run("SELECT pg_backend_pid()")
        app.run("SET debug_parallel_query = on")  # the scan runs in a parallel worker
        app.submit("SELECT count(*) FROM users WHERE pg_sleep(10) IS NOT NULL")
        worker_on_users = (
            "SELECT l.pid FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid "
            f"WHERE a.leader_pid = {leader} AND a.backend_type = 'parallel worker' "
            "AND l.relation = 'users'::regclass"
        )
        deadline = time.monotonic() + 10
        while not (worker := fetch(recipe.url, worker_on_users)):
            assert time.monotonic() < deadline, "no parallel worker ever locked users"
            time.sleep(0.05)
        ((worker_pid,),) = worker
        try:
            with_settings(recipe, blocker_age_seconds=0, blocker_wait_seconds=0)
            with pytest.raises(CommandError) as refused:
                recipe.upgrade()
        finally:
            execute(recipe.url, f"SELECT pg_cancel_backend({leader})")
            with pytest.raises(Exception, match="canceling statement"):
                app.result()
    message = str(refused.value)
    # The client session running the query, not its worker (an autovacuum would not count
    # either: it is no client backend).
    assert "1 transaction(s) older than 0s" in message, message
    assert f"pid {leader} (active, " in message
    assert f"pid {worker_pid} " not in message


def test_idle_in_transaction_session_timeout_ends_the_blocker(
    postgresql_recipe: Recipe, app_role: tuple[str, str], recipe_log: Lines
) -> None:
    """The role's setting ends a forgotten transaction; the DDL then goes through."""
    recipe = postgresql_recipe
    recipe.install(FILE)
    name, password = app_role
    recipe.run(f"GRANT SELECT ON users, projects TO {name}")
    app_url = recipe.url.set(username=name, password=password)
    before = Session(app_url)  # logged in before the setting: keeps its old value
    before.run("SELECT count(*) FROM projects")
    before.run("COMMIT")
    execute(recipe.url, f"ALTER ROLE {name} SET idle_in_transaction_session_timeout = '1s'")
    held, pid = idle_in_transaction_on(app_url, "users")
    try:
        assert held.run("SHOW idle_in_transaction_session_timeout") == [("1s",)]
        assert before.run("SHOW idle_in_transaction_session_timeout") == [("0",)]
        before.run("SELECT 1")  # idle in a transaction of its own, on no target table
        # Without the setting this session would block the DDL until refused.
        with_settings(recipe, blocker_age_seconds=0, blocker_wait_seconds=10)
        started = time.monotonic()
        recipe.upgrade()
        assert time.monotonic() - started < 5
        assert recipe.current() == REVISION
        assert any(f"pid {pid} (idle in transaction" in line for line in recipe_log.lines)
        alive = fetch(recipe.url, f"SELECT count(*) FROM pg_stat_activity WHERE pid = {pid}")
        assert alive == [(0,)]
        with pytest.raises(Exception, match="connection is closed"):  # the server ended it
            held.run("SELECT 1")
        assert before.run("SELECT 2") == [(2,)]  # still in its transaction
    finally:
        held.close()
        before.close()


# Lock order: a deadlock with the opposite order, none with the recipe's -----------------


def locks_on_targets(url: URL) -> list[tuple[int, str, str, bool]]:
    return [
        (int(pid), str(table), str(mode), bool(granted))
        for pid, table, mode, granted in fetch(
            url,
            "SELECT l.pid, c.relname, l.mode, l.granted FROM pg_locks AS l "
            "JOIN pg_class AS c ON c.oid = l.relation "
            "WHERE c.relname IN ('users', 'projects') AND l.pid <> pg_backend_pid()",
        )
    ]


def race_with_application(
    recipe: Recipe, source: Path
) -> tuple[BaseException | None, BaseException | None, list[tuple[str, str, bool]]]:
    """An application transaction reads users, then projects; the revision runs between.

    Returns the application's error, the upgrade's error, and the locks the
    migration held on users and projects while it waited for users.
    """
    recipe.install(source)
    with_settings(recipe, lock_timeout="5s")  # longer than deadlock_timeout (1s)
    with session(recipe.url) as app:
        ((app_pid,),) = app.run("SELECT pg_backend_pid()")
        app.run("SELECT count(*) FROM users")  # holds ACCESS SHARE on users
        upgrade = in_background(recipe.upgrade)
        deadline = time.monotonic() + 10
        while True:
            locks = locks_on_targets(recipe.url)
            waiting = [lock for lock in locks if lock[1] == "users" and not lock[3]]
            if waiting:
                break
            assert time.monotonic() < deadline, "the migration never waited for users"
            time.sleep(0.05)
        migration_pid = waiting[0][0]
        held = sorted((t, m, g) for pid, t, m, g in locks if pid == migration_pid)
        app.submit("SELECT count(*) FROM projects")
        app_error: BaseException | None = None
        try:
            app.result(timeout=15)
            app.run("COMMIT")
        except Exception as exc:
            app_error = exc
        upgrade_error = upgrade.exception(timeout=15)
        assert app_pid != migration_pid
    return app_error, upgrade_error, held


def test_without_the_lock_the_alters_deadlock_with_the_application(
    postgresql_recipe: Recipe, tmp_path: Path
) -> None:
    source = Path(__file__).parent.parent / "examples" / FILE
    unlocked = tmp_path / Path(FILE).name
    text_ = source.read_text()
    statement = "    op.execute(LOCK_IN_ORDER)\n"
    assert statement in text_
    unlocked.write_text(text_.replace(statement, ""))

    app_error, upgrade_error, held = race_with_application(postgresql_recipe, unlocked)

    # The ALTERs alone (projects first) got projects, then waited for users: a cycle.
    assert held == [
        ("projects", "AccessExclusiveLock", True),
        ("users", "AccessExclusiveLock", False),
    ]
    errors = [str(e) for e in (app_error, upgrade_error) if e is not None]
    assert len(errors) == 1, errors  # PostgreSQL aborts one side; the other goes on
    assert "deadlock detected" in errors[0]


def test_recipe_lock_order_does_not_deadlock(postgresql_recipe: Recipe) -> None:
    app_error, upgrade_error, held = race_with_application(
        postgresql_recipe, Path(__file__).parent.parent / "examples" / FILE
    )

    # The ALTERs touch projects first, but the LOCK took users first: waiting for users,
    # the migration held nothing on projects, and the application went on.
    assert held == [("users", "AccessExclusiveLock", False)]
    assert app_error is None
    assert upgrade_error is None
    assert postgresql_recipe.current() == REVISION


def waiting_for(url: URL, pid: int, table: str, timeout: float = 10) -> list[tuple[str, str, bool]]:
    """Once ``pid`` waits for a lock on ``table``: its locks on users and projects."""
    deadline = time.monotonic() + timeout
    while True:
        locks = [(t, m, g) for p, t, m, g in locks_on_targets(url) if p == pid]
        if (table, False) in [(t, g) for t, _, g in locks]:
            return sorted(locks)
        assert time.monotonic() < deadline, f"pid {pid} never waited for {table}: {locks}"
        time.sleep(0.02)


def test_lock_timeout_bounds_each_table_on_its_own(postgresql_recipe: Recipe) -> None:
    """LOCK TABLE users, projects waits table by table, holding users while it waits."""
    recipe = postgresql_recipe
    recipe.install(FILE)
    (owner,) = seed_users(recipe, ["Ada"])
    with_settings(recipe, lock_timeout="400ms", blocker_age_seconds=60)
    with session(recipe.url) as on_users, session(recipe.url) as on_projects:
        on_users.run("SELECT count(*) FROM users")
        on_projects.run("SELECT count(*) FROM projects")
        started = time.monotonic()
        upgrade = in_background(recipe.upgrade)
        deadline = time.monotonic() + 10
        while not (waiting := [p for p, t, _, g in locks_on_targets(recipe.url) if not g]):
            assert time.monotonic() < deadline, "the migration never waited"
            time.sleep(0.02)
        migration = waiting[0]
        assert waiting_for(recipe.url, migration, "users") == [
            ("users", "AccessExclusiveLock", False)
        ]
        time.sleep(0.25)  # most of lock_timeout spent waiting for users
        on_users.run("COMMIT")
        # users granted and kept while the LOCK waits for projects, with a lock_timeout
        # of its own.
        assert waiting_for(recipe.url, migration, "projects") == [
            ("projects", "AccessExclusiveLock", False),
            ("users", "AccessExclusiveLock", True),
        ]
        error = upgrade.exception(timeout=10)
        elapsed = time.monotonic() - started
    assert error is not None and "lock timeout" in str(error), error
    assert elapsed > 0.25 + 0.4  # longer than one lock_timeout in all
    assert recipe.current() == recipe.base

    # A foreign-key check locks the child first: an INSERT into projects holds projects
    # while it waits for users (held here as a migration holding users would).
    with session(recipe.url) as migration_like, session(recipe.url) as app:
        migration_like.run("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        ((app_pid,),) = app.run("SELECT pg_backend_pid()")
        app.submit(f"INSERT INTO projects (id, name, owner_id) VALUES ('p-fk', 'FK', '{owner}')")
        assert waiting_for(recipe.url, app_pid, "users") == [
            ("projects", "RowExclusiveLock", True),
            ("users", "RowShareLock", False),
        ]
        migration_like.run("COMMIT")
        app.result()
        app.run("COMMIT")
