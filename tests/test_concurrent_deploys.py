"""Eight replicas running `alembic upgrade head` at the same moment on PostgreSQL.

The test pre-creates alembic_version and holds it locked, so all eight
processes reach the point of reading the current revision before any of them
can go on; then it lets go. With env.py's advisory lock they queue, one
migrates and the rest find the database at head. Without it they race.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from project import ALEMBIC, alembic_environment, revision_ids
from sqlalchemy import pool, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

# env.py's advisory_lock_key() for alembic_version, as documented in deploying.md.
ADVISORY_LOCK_KEY = 7513836529976115471
REPLICAS = 8
# What a replica that lost the race reports (quoted in references/deploying.md).
RACE_ERRORS = [
    'duplicate key value violates unique constraint "pg_type_typname_nsp_index"',
    'relation "users" already exists',
    'type "users" already exists',
    "Online migration expected to match one row",  # two replicas bumped alembic_version
]
WAIT_FOR_START_S = 60


async def waiting_backends(connection: AsyncConnection, database: str) -> int:
    """Sessions on ``database`` blocked on a lock (relation or advisory)."""
    result = await connection.execute(
        text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = :db AND wait_event_type = 'Lock'"
        ),
        {"db": database},
    )
    count = int(result.scalar_one())
    await connection.rollback()  # pg_stat_activity is a snapshot per transaction
    return count


async def race(project: Path, url: URL, advisory_lock: bool) -> list[tuple[int, str]]:
    """Start REPLICAS upgrades that all block on one lock, release it; return (rc, log)."""
    environment = alembic_env(
        url,
        MIGRATION_ADVISORY_LOCK=str(advisory_lock).lower(),
        MIGRATION_LOCK_TIMEOUT="2min",  # the replicas wait on the test's lock below
    )
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as holder, engine.connect() as observer:
            await holder.execute(
                text(
                    "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
                    "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
                )
            )
            await holder.commit()
            await holder.execute(text("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE"))
            processes = [
                await asyncio.create_subprocess_exec(
                    ALEMBIC, "upgrade", "head", cwd=project, env=environment,
                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
                )
                for _ in range(REPLICAS)
            ]  # fmt: skip
            try:
                for _ in range(WAIT_FOR_START_S * 10):
                    if await waiting_backends(observer, url.database or "") == REPLICAS:
                        break
                    await asyncio.sleep(0.1)
                else:
                    raise AssertionError("the replicas never all reached the version table")
                await holder.rollback()  # release: all eight go at once
                outputs = [await p.communicate() for p in processes]
            finally:
                for process in processes:
                    if process.returncode is None:
                        process.kill()
                        await process.wait()
            return [
                (p.returncode or 0, out.decode())
                for p, (out, _) in zip(processes, outputs, strict=True)
            ]
    finally:
        await engine.dispose()


async def current_version(url: URL) -> list[str]:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return [row[0] for row in rows]
    finally:
        await engine.dispose()


def upgrades_run(results: list[tuple[int, str]], revision: str) -> int:
    """How many processes started applying ``revision``."""
    return sum(log.count(f"-> {revision},") for _, log in results)


async def test_replicas_apply_each_revision_once(project_copy: Path, postgresql_url: URL) -> None:
    results = await race(project_copy, postgresql_url, advisory_lock=True)

    assert [rc for rc, _ in results] == [0] * REPLICAS, "\n".join(log for _, log in results)
    for revision in revision_ids():
        assert upgrades_run(results, revision) == 1, revision
    assert await current_version(postgresql_url) == [revision_ids()[-1]]


async def test_without_the_lock_replicas_collide(project_copy: Path, postgresql_url: URL) -> None:
    """What the lock buys: the same race without it runs DDL twice and fails."""
    results = await race(project_copy, postgresql_url, advisory_lock=False)

    failures = [log for rc, log in results if rc != 0]
    assert failures, "all replicas succeeded without the lock"
    assert upgrades_run(results, revision_ids()[0]) > 1
    for log in failures:  # each failed on the race, as deploying.md says
        assert any(error in log for error in RACE_ERRORS), log


async def hold_migration_lock(url: URL, seconds: float) -> None:
    """Hold the migrations' advisory lock from another session for ``seconds``."""
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            key = {"key": ADVISORY_LOCK_KEY}
            await connection.execute(text("SELECT pg_advisory_lock(:key)"), key)
            await asyncio.sleep(seconds)
            await connection.execute(text("SELECT pg_advisory_unlock(:key)"), key)
    finally:
        await engine.dispose()


def alembic_env(url: URL, **settings: str) -> dict[str, str]:
    """A child process's environment aimed at ``url``."""
    return alembic_environment(DATABASE_URL=url.render_as_string(hide_password=False), **settings)


async def test_waiting_replica_outlasts_its_timeouts(
    project_copy: Path, postgresql_url: URL
) -> None:
    """A replica waits for the lock longer than lock_timeout and statement_timeout allow."""
    holder = asyncio.create_task(hold_migration_lock(postgresql_url, 2.0))
    await asyncio.sleep(0.5)
    env = alembic_env(
        postgresql_url, MIGRATION_LOCK_TIMEOUT="200ms", MIGRATION_STATEMENT_TIMEOUT="500ms"
    )
    process = await asyncio.create_subprocess_exec(
        ALEMBIC, "upgrade", "head", cwd=project_copy, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await process.communicate()
    await holder
    assert process.returncode == 0, output.decode()
    assert await current_version(postgresql_url) == [revision_ids()[-1]]


async def test_readiness_check_does_not_wait_for_a_migration(
    project_copy: Path, postgresql_url: URL
) -> None:
    """`alembic current --check-heads` answers while a migration holds the lock."""
    holder = asyncio.create_task(hold_migration_lock(postgresql_url, 60))
    await asyncio.sleep(0.5)
    try:
        process = await asyncio.create_subprocess_exec(
            ALEMBIC, "current", "--check-heads", cwd=project_copy, env=alembic_env(postgresql_url),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    finally:
        holder.cancel()
        await asyncio.gather(holder, return_exceptions=True)  # let it close its connection
    assert process.returncode != 0  # an empty database is not at head: but it answered
    assert b"Database is not on all head revisions" in output
