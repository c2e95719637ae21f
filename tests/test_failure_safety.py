"""Failures leave the database at a revision: lock timeouts and injected faults."""

from __future__ import annotations

import asyncio
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from alembic.util import CommandError
from project import (
    PROJECT_DIR,
    alembic,
    copy_project,
    example_revision,
    execute,
    fetch,
    install_revisions,
    project_config,
    reflect_schema,
    revision_ids,
    revision_module,
    schema,
    table_locked,
    transaction_held,
    with_connection,
)
from sqlalchemy import Connection, event, inspect, pool, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine

import migrate

LOCK_TIMEOUT_S = 1


def snapshot(url: URL) -> dict[str, Any]:
    """The reflected schema and every row of every table, read on one connection."""

    def read(conn: Connection) -> dict[str, Any]:
        tables = reflect_schema(conn)
        rows = {t: sorted(map(repr, conn.execute(text(f"SELECT * FROM {t}")))) for t in tables}
        return {"schema": tables, "rows": rows}

    return with_connection(url, read)


def seed(url: URL) -> None:
    """A few rows in whichever tables exist, so data loss would show."""
    tables = schema(url)
    if "users" in tables and not fetch(url, "SELECT 1 FROM users"):
        users = [
            {"id": str(uuid.uuid4()), "email": email, "name": "n"}
            for email in ["a@mycompany.com", "b@example.com", "c@mycompany.com"]
        ]
        execute(url, "INSERT INTO users (id, email, name) VALUES (:id, :email, :name)", users)
    if "projects" in tables and not fetch(url, "SELECT 1 FROM projects"):
        execute(
            url,
            "INSERT INTO projects (id, name, owner_id) SELECT id, 'p-' || email, id FROM users",
        )


# --- lock_timeout -------------------------------------------------------------


def test_lock_timeout_fails_fast_and_changes_nothing(
    postgresql_url: URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", postgresql_url.render_as_string(hide_password=False))
    monkeypatch.setenv("MIGRATION_LOCK_TIMEOUT", f"{LOCK_TIMEOUT_S}s")
    config = project_config()
    command.upgrade(config, revision_ids()[-2])
    seed(postgresql_url)
    before = snapshot(postgresql_url)

    with table_locked(postgresql_url, "users"), pytest.raises(CommandError) as failure:
        started = time.monotonic()
        try:
            command.upgrade(config, "head")
        finally:
            elapsed = time.monotonic() - started

    assert str(failure.value).startswith("lock timeout: could not lock table users")
    assert elapsed < LOCK_TIMEOUT_S + 2, f"took {elapsed:.1f}s"
    assert snapshot(postgresql_url) == before

    command.upgrade(config, "head")  # the lock is gone: a rerun succeeds
    assert fetch(postgresql_url, "SELECT version_num FROM alembic_version") == [
        (revision_ids()[-1],)
    ]


def test_lock_timeout_from_x_argument(project_copy: Path, postgresql_url: URL) -> None:
    """-x lock_timeout=... wins over the environment and the default."""
    env = {"DATABASE_URL": postgresql_url.render_as_string(hide_password=False)}
    assert alembic(project_copy, f"alembic upgrade {revision_ids()[-2]}", env).returncode == 0
    with table_locked(postgresql_url, "users"):
        result = alembic(project_copy, "alembic -x lock_timeout=200ms upgrade head", env)
    assert result.returncode != 0
    # The message reports the setting PostgreSQL applied, read back from the session.
    assert "lock_timeout=200ms" in result.stdout


def test_invalid_timeout_is_a_clear_error(project_copy: Path, postgresql_url: URL) -> None:
    env = {
        "DATABASE_URL": postgresql_url.render_as_string(hide_password=False),
        "MIGRATION_LOCK_TIMEOUT": "soon",
    }
    result = alembic(project_copy, "alembic upgrade head", env)
    assert result.returncode != 0
    assert 'FAILED: invalid timeout setting: invalid value for parameter "lock_timeout"' in (
        result.stdout
    )
    assert fetch(postgresql_url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == [
        (0,)
    ]


# --- fault injection ----------------------------------------------------------


class InjectedFault(Exception):
    """Raised in place of one SQL statement."""


def upgrade_with_fault(url: URL, revision: str, fail_at: int | None) -> int:
    """Upgrade to ``revision``, failing statement number ``fail_at``; return statements run."""
    engine = create_async_engine(url, poolclass=pool.NullPool)
    count = 0

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def maybe_fail(conn, cursor, statement, parameters, context, executemany) -> None:
        nonlocal count
        count += 1
        if count == fail_at:
            raise InjectedFault(statement)

    config = project_config()
    config.attributes["connection"] = engine
    try:
        command.upgrade(config, revision)
    finally:
        asyncio.run(engine.dispose())
    return count


def resumable(revision: str) -> bool:
    """A revision that commits part way on purpose, and says a rerun finishes it."""
    module = revision_module(revision)
    return "Safe to rerun" in (module.__doc__ or "")


@pytest.mark.parametrize("revision", revision_ids())
def test_every_failure_leaves_a_revision(
    revision: str, alembic_cfg: Config, database_url: URL
) -> None:
    """Each statement of the revision fails in turn; the database is never half-migrated.

    After a failure the database is exactly as before the revision, or (for a
    revision that declares itself resumable) still at the previous revision
    with a rerun converging on the same result as a clean run.
    """
    command.upgrade(alembic_cfg, revision_ids()[0])
    command.downgrade(alembic_cfg, "base")  # an empty alembic_version, as after any run
    previous = revision_module(revision).down_revision or "base"
    command.upgrade(alembic_cfg, previous)
    seed(database_url)
    before = snapshot(database_url)
    statements = upgrade_with_fault(database_url, revision, fail_at=None)
    after = snapshot(database_url)
    command.downgrade(alembic_cfg, previous)
    assert snapshot(database_url) == before, f"{revision} does not downgrade cleanly"

    for fail_at in range(1, statements + 1):
        with pytest.raises((InjectedFault, CommandError)):
            upgrade_with_fault(database_url, revision, fail_at)
        state = snapshot(database_url)
        if state in (before, after):
            if state == after:
                command.downgrade(alembic_cfg, previous)
            continue
        where = f"{revision}, statement {fail_at} of {statements}"
        assert resumable(revision), f"half-applied after a failure at {where}"
        assert state["rows"]["alembic_version"] == before["rows"]["alembic_version"], where
        upgrade_with_fault(database_url, revision, fail_at=None)
        assert snapshot(database_url) == after, f"rerun did not converge after {where}"
        command.downgrade(alembic_cfg, previous)
    assert snapshot(database_url) == before


# --- connections handed in by the application ----------------------------------


async def test_a_connection_inside_a_transaction_is_refused(database_url: URL) -> None:
    """engine.begin() would have its work committed by the migration: refuse it instead."""
    engine = create_async_engine(database_url, poolclass=pool.NullPool)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE app_work (id INTEGER)"))
        with pytest.raises(CommandError, match="has a transaction open"):
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO app_work (id) VALUES (1)"))
                await connection.run_sync(migrate.run_upgrade, project_config(), "head")
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT count(*) FROM app_work"))).scalar()
            tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
    finally:
        await engine.dispose()
    assert rows == 0, "the application's uncommitted work was committed"
    assert "users" not in tables


async def test_pooled_connection_comes_back_as_it_was(postgresql_url: URL) -> None:
    """After migrating on the application's pool: its settings restored, no lock left."""
    engine = create_async_engine(postgresql_url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SET lock_timeout = '42s'"))
            await connection.commit()
        await migrate.upgrade_database(engine)
        async with engine.connect() as connection:  # the same pooled connection
            setting = await connection.scalar(text("SELECT current_setting('lock_timeout')"))
            advisory = await connection.scalar(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
            )
    finally:
        await engine.dispose()
    assert setting == "42s"
    assert advisory == 0


# --- concurrent index builds ----------------------------------------------------

INDEX_RECIPE = "03_create_index_concurrently.py"
TROUBLESHOOTING = PROJECT_DIR / "references" / "troubleshooting.md"
INDEX = "ix_users_created_at"


def index_recipe_one_behind(tmp_path: Path, url: URL, monkeypatch: pytest.MonkeyPatch) -> Config:
    """A project copy with recipe 03 installed; the database at the project's head, seeded."""
    monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
    project = copy_project(tmp_path / "project")
    install_revisions(project, revision_ids()[-1], INDEX_RECIPE)
    config = Config(project / "alembic.ini")
    config.attributes["configure_logger"] = False
    command.upgrade(config, revision_ids()[-1])
    seed(url)
    return config


def index_validity(url: URL) -> list[tuple[Any, ...]]:
    return fetch(url, f"SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('{INDEX}')")


OLD_SNAPSHOT = ("SELECT count(*) FROM projects",)  # a report on another table


def test_concurrent_build_outwaits_lock_timeout(
    tmp_path: Path, postgresql_url: URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unrelated long transaction makes the build wait: lock_timeout must not cancel it."""
    config = index_recipe_one_behind(tmp_path, postgresql_url, monkeypatch)
    monkeypatch.setenv("MIGRATION_LOCK_TIMEOUT", "200ms")

    with (
        ThreadPoolExecutor(1) as pool_,
        transaction_held(postgresql_url, *OLD_SNAPSHOT, isolation_level="REPEATABLE READ"),
    ):
        upgrade = pool_.submit(command.upgrade, config, "head")
        waited = wait_for_backend(postgresql_url, "wait_event = 'virtualxid'")
        time.sleep(1.0)  # five times lock_timeout, while the build waits for the snapshot
        assert not upgrade.done(), upgrade.exception()
    upgrade.result(timeout=30)

    assert waited, "the concurrent build never waited for the old snapshot"
    assert index_validity(postgresql_url) == [(True,)]
    assert fetch(postgresql_url, "SELECT version_num FROM alembic_version") == [
        (example_revision(INDEX_RECIPE),)
    ]


NEXT_REVISION = """
from alembic import op
import sqlalchemy as sa

revision = "a1b2c3d4e5f6"
down_revision = "{down}"


def upgrade():
    op.add_column("users", sa.Column("nickname", sa.String(40)))
"""


def test_lock_timeout_is_back_after_a_concurrent_build(
    tmp_path: Path, postgresql_url: URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The revision after the build still gives up on a lock after lock_timeout."""
    config = index_recipe_one_behind(tmp_path, postgresql_url, monkeypatch)
    versions = Path(config.config_file_name or "").parent / "alembic" / "versions"
    (versions / "next.py").write_text(NEXT_REVISION.format(down=example_revision(INDEX_RECIPE)))
    monkeypatch.setenv("MIGRATION_LOCK_TIMEOUT", "300ms")

    with table_locked(postgresql_url, "users"), pytest.raises(CommandError) as failure:
        command.upgrade(config, "head")

    assert str(failure.value).startswith("lock timeout: could not lock table users"), failure.value
    assert fetch(postgresql_url, "SELECT version_num FROM alembic_version") == [
        (example_revision(INDEX_RECIPE),)
    ]


def test_failed_concurrent_build_says_what_it_left(
    tmp_path: Path, postgresql_url: URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    """statement_timeout still bounds the build; the message names the INVALID index."""
    config = index_recipe_one_behind(tmp_path, postgresql_url, monkeypatch)
    monkeypatch.setenv("MIGRATION_STATEMENT_TIMEOUT", "500ms")

    with (
        transaction_held(postgresql_url, *OLD_SNAPSHOT, isolation_level="REPEATABLE READ"),
        pytest.raises(CommandError) as failure,
    ):
        command.upgrade(config, "head")

    message = str(failure.value)
    # Quoted in references/troubleshooting.md, statement and all.
    quoted = next(
        line.removeprefix("FAILED: ")
        for line in TROUBLESHOOTING.read_text().splitlines()
        if line.startswith("FAILED: statement timeout: CREATE INDEX CONCURRENTLY")
    )
    assert message == quoted
    assert "rolled back; retry" not in message
    assert index_validity(postgresql_url) == [(False,)]
    assert fetch(postgresql_url, "SELECT version_num FROM alembic_version") == [
        (revision_ids()[-1],)
    ]

    command.upgrade(config, "head")  # the old transaction is gone: the recipe rebuilds it
    assert index_validity(postgresql_url) == [(True,)]


def wait_for_backend(url: URL, condition: str, timeout: float = 30) -> bool:
    """Poll pg_stat_activity until a backend on ``url``'s database matches ``condition``."""
    query = (
        f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{url.database}' AND {condition}"
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if fetch(url, query) != [(0,)]:
            return True
        time.sleep(0.05)
    return False
