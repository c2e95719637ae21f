"""Eight replicas running `alembic upgrade head` at the same moment on PostgreSQL.

The test takes the migrations' advisory lock itself, starts eight `alembic
upgrade head` processes, waits until every one of them is waiting for that
lock, then lets go: all eight go at once, as replicas released by a deploy do.
Each kind of pending revision below is raced: plain DDL, a concurrent index
build, a VALIDATE CONSTRAINT and a batched backfill in autocommit_block().
The concurrent build is the one that deadlocked when waiters blocked in
pg_advisory_lock() inside a transaction: the build waits for their snapshots.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from project import (
    alembic_environment,
    alembic_executable,
    copy_project,
    example_revision,
    execute,
    fetch,
    install_revisions,
    revision_ids,
)
from sqlalchemy import pool, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

# env.py's advisory_lock_key() for alembic_version, as documented in deploying.md.
ADVISORY_LOCK_KEY = 7513836529976115471
REPLICAS = 8
WAITING_LINE = "waiting for the migration lock (held by pid"
# What a replica that lost the race reports (quoted in references/deploying.md).
RACE_ERRORS = [
    'duplicate key value violates unique constraint "pg_type_typname_nsp_index"',
    'relation "users" already exists',
    'type "users" already exists',
    "Online migration expected to match one row",  # two replicas bumped alembic_version
]
START_TIMEOUT_S = 60
FINISH_TIMEOUT_S = 120


def seed_users(url: URL, count: int = 40) -> None:
    execute(
        url,
        "INSERT INTO users (id, email, name) VALUES (:id, :email, :name)",
        [
            {"id": f"{n:08d}", "email": f"User{n}@Example.com", "name": f"User {n}"}
            for n in range(count)
        ],
    )


def seed_reviewed_projects(url: URL) -> None:
    seed_users(url, 4)
    execute(
        url,
        "INSERT INTO projects (id, name, owner_id, reviewer_id) "
        "SELECT 'p' || id, 'project ' || id, id, id FROM users",
    )


@dataclass(frozen=True)
class PendingRevision:
    """Recipe files applied before the race, the ones the replicas race to apply."""

    applied: tuple[str, ...] = ()
    pending: tuple[str, ...] = ()
    seed: Callable[[URL], None] | None = None
    done: str = "SELECT true"  # true once the pending work is in place


KINDS = {
    # An empty database: the project's own CREATE TABLEs and role backfill.
    "plain-ddl": PendingRevision(
        done="SELECT count(*) = 2 FROM pg_tables WHERE tablename IN ('users', 'projects')"
    ),
    "concurrent-index": PendingRevision(
        pending=("03_create_index_concurrently.py",),
        seed=seed_users,
        done="SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_users_created_at'::regclass",
    ),
    "validate-constraint": PendingRevision(
        applied=(
            "06_foreign_key_not_valid/1_add_column.py",
            "06_foreign_key_not_valid/2_add_foreign_key_not_valid.py",
        ),
        pending=("06_foreign_key_not_valid/3_validate_foreign_key.py",),
        seed=seed_reviewed_projects,
        done="SELECT convalidated FROM pg_constraint "
        "WHERE conname = 'fk_projects_reviewer_id_users'",
    ),
    "batched-backfill": PendingRevision(
        pending=("08_resumable_backfill.py",),
        seed=seed_users,
        done="SELECT count(*) = 0 FROM users WHERE email_normalized IS NULL",
    ),
}


def project_one_behind(tmp_path: Path, url: URL, kind: PendingRevision) -> tuple[Path, list[str]]:
    """A project copy with the kind's recipes installed, the database one step behind.

    Returns the project and the revisions still to apply.
    """
    project = copy_project(tmp_path / "project")
    config = Config(project / "alembic.ini", stdout=io.StringIO())
    config.attributes["configure_logger"] = False
    install_revisions(project, revision_ids()[-1], *kind.applied, *kind.pending, batch_size=7)
    pending = [example_revision(name) for name in kind.pending] or revision_ids()
    script = ScriptDirectory.from_config(config)
    start = script.get_revision(pending[0]).down_revision
    if start is not None:
        command.upgrade(config, str(start))  # env.py reads DATABASE_URL, set by the test
        if kind.seed:
            kind.seed(url)
    return project, pending


def database_url_text(url: URL) -> str:
    return url.render_as_string(hide_password=False)


async def lock_waiters(observer: AsyncConnection, database: str) -> int:
    """Sessions on ``database`` blocked inside PostgreSQL on a lock."""
    result = await observer.execute(
        text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = :db "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        ),
        {"db": database},
    )
    count = int(result.scalar_one())
    await observer.rollback()  # pg_stat_activity is a snapshot per transaction
    return count


async def collect(stream: asyncio.StreamReader | None, into: list[str]) -> None:
    assert stream is not None
    async for line in stream:
        into.append(line.decode())


async def race(
    project: Path, url: URL, *, block_version_table: bool = False, **settings: str
) -> list[tuple[int, str]]:
    """Start REPLICAS upgrades behind locks the test holds, release them; return (rc, log).

    A replica counts as waiting once it logs that it waits for the migration
    lock, or once PostgreSQL shows it blocked on a lock (an env.py that blocks
    in pg_advisory_lock(), or the version table when the advisory lock is off).
    """
    environment = alembic_env(url, **settings)
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as holder, engine.connect() as observer:
            if block_version_table:
                await holder.execute(
                    text(
                        "CREATE TABLE IF NOT EXISTS alembic_version ("
                        "version_num VARCHAR(32) NOT NULL, "
                        "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
                    )
                )
                await holder.commit()
                await holder.execute(text("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE"))
            # Transaction-level: the rollback below releases it with the table lock.
            await holder.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
            )
            logs: list[list[str]] = [[] for _ in range(REPLICAS)]
            processes = [
                await asyncio.create_subprocess_exec(
                    alembic_executable(), "upgrade", "head", cwd=project, env=environment,
                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
                )
                for _ in range(REPLICAS)
            ]  # fmt: skip
            readers = [
                asyncio.create_task(collect(p.stdout, log))
                for p, log in zip(processes, logs, strict=True)
            ]
            try:
                for _ in range(START_TIMEOUT_S * 10):
                    said_waiting = sum(any(WAITING_LINE in line for line in log) for log in logs)
                    if said_waiting + await lock_waiters(observer, url.database or "") >= REPLICAS:
                        break
                    if any(p.returncode is not None for p in processes):
                        break  # one gave up early: the assertions below show why
                    await asyncio.sleep(0.1)
                else:
                    raise AssertionError("the replicas never all waited for the lock")
                await holder.rollback()  # release: all eight go at once
                await asyncio.wait_for(
                    asyncio.gather(*(p.wait() for p in processes), *readers), FINISH_TIMEOUT_S
                )
            finally:
                for process in processes:
                    if process.returncode is None:
                        process.kill()
                        await process.wait()
            return [
                (p.returncode or 0, "".join(log)) for p, log in zip(processes, logs, strict=True)
            ]
    finally:
        await engine.dispose()


def upgrades_run(results: list[tuple[int, str]], revision: str) -> int:
    """How many processes started applying ``revision``."""
    return sum(log.count(f"-> {revision},") for _, log in results)


@pytest.mark.parametrize("kind", KINDS)
def test_replicas_apply_each_revision_once(
    kind: str, tmp_path: Path, postgresql_url: URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    """All eight exit 0, each pending revision runs once, no INVALID index is left."""
    monkeypatch.setenv("DATABASE_URL", database_url_text(postgresql_url))
    project, pending = project_one_behind(tmp_path, postgresql_url, KINDS[kind])

    results = asyncio.run(race(project, postgresql_url))

    logs = "\n".join(f"--- replica {n}: exit {rc}\n{log}" for n, (rc, log) in enumerate(results))
    assert [rc for rc, _ in results] == [0] * REPLICAS, logs
    assert [upgrades_run(results, revision) for revision in pending] == [1] * len(pending), logs
    assert fetch(postgresql_url, "SELECT version_num FROM alembic_version") == [(pending[-1],)]
    assert (
        fetch(
            postgresql_url, "SELECT indexrelid::regclass::text FROM pg_index WHERE NOT indisvalid"
        )
        == []
    )
    assert fetch(postgresql_url, KINDS[kind].done) == [(True,)]
    # Waiting replicas said so, naming the lock holder's process.
    assert sum(WAITING_LINE in log for _, log in results) >= REPLICAS - 1, logs


def test_without_the_lock_replicas_collide(project_copy: Path, postgresql_url: URL) -> None:
    """What the lock buys: the same race without it runs DDL twice and fails."""
    results = asyncio.run(
        race(
            project_copy,
            postgresql_url,
            block_version_table=True,
            MIGRATION_ADVISORY_LOCK="false",
            MIGRATION_LOCK_TIMEOUT="2min",  # the replicas wait on the test's table lock
        )
    )

    failures = [log for rc, log in results if rc != 0]
    assert failures, "all replicas succeeded without the lock"
    assert upgrades_run(results, revision_ids()[0]) > 1
    for log in failures:  # each failed on the race, as deploying.md says
        assert any(error in log for error in RACE_ERRORS), log


@asynccontextmanager
async def migration_lock_held(url: URL) -> AsyncIterator[None]:
    """Hold the migrations' advisory lock from another session while inside."""
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            key = {"key": ADVISORY_LOCK_KEY}
            await connection.execute(text("SELECT pg_advisory_lock(:key)"), key)
            await connection.commit()
            yield
            await connection.execute(text("SELECT pg_advisory_unlock(:key)"), key)
    finally:
        await engine.dispose()


def alembic_env(url: URL, **settings: str) -> dict[str, str]:
    """A child process's environment aimed at ``url``."""
    return alembic_environment(DATABASE_URL=database_url_text(url), **settings)


async def test_waiting_replica_outlasts_its_timeouts(
    project_copy: Path, postgresql_url: URL
) -> None:
    """A replica waits for the lock longer than lock_timeout and statement_timeout allow."""
    env = alembic_env(
        postgresql_url, MIGRATION_LOCK_TIMEOUT="200ms", MIGRATION_STATEMENT_TIMEOUT="500ms"
    )
    log: list[str] = []
    async with migration_lock_held(postgresql_url):
        process = await asyncio.create_subprocess_exec(
            alembic_executable(), "upgrade", "head", cwd=project_copy, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        reader = asyncio.create_task(collect(process.stdout, log))
        for _ in range(START_TIMEOUT_S * 10):
            if any(WAITING_LINE in line for line in log) or process.returncode is not None:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # twice statement_timeout, five times lock_timeout
    await asyncio.wait_for(asyncio.gather(process.wait(), reader), FINISH_TIMEOUT_S)

    assert process.returncode == 0, "".join(log)
    assert any(WAITING_LINE in line for line in log), "".join(log)
    version = await asyncio.to_thread(
        fetch, postgresql_url, "SELECT version_num FROM alembic_version"
    )
    assert version == [(revision_ids()[-1],)]


async def test_readiness_check_does_not_wait_for_a_migration(
    project_copy: Path, postgresql_url: URL
) -> None:
    """`alembic current` answers while a migration holds the lock."""
    async with migration_lock_held(postgresql_url):
        process = await asyncio.create_subprocess_exec(
            alembic_executable(), "current", "--check-heads", cwd=project_copy,
            env=alembic_env(postgresql_url),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode != 0  # an empty database is not at head: but it answered
    assert b"Database is not on all head revisions" in output
