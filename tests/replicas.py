"""Eight `alembic upgrade head` processes released at once, for any project.

The test holds the migrations' advisory lock, starts the replicas, waits until
every one is waiting for it (it says so, or PostgreSQL shows it blocked), then
lets go. tests/test_concurrent_deploys.py races this project's recipes;
tests/test_assets.py races stock projects with the drop-in env.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from project import alembic_environment, alembic_executable, url_text
from sqlalchemy import pool, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

# env.py's advisory_lock_key() for alembic_version, as documented in deploying.md.
ADVISORY_LOCK_KEY = 7513836529976115471
REPLICAS = 8
WAITING_LINE = "waiting for the migration lock (held by pid"
START_TIMEOUT_S = 60
FINISH_TIMEOUT_S = 120


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
    project: Path,
    url: URL,
    *,
    block_version_table: bool = False,
    driver: str | None = None,
    **settings: str,
) -> list[tuple[int, str]]:
    """Start REPLICAS upgrades behind locks the test holds, release them; return (rc, log).

    A replica counts as waiting once it logs that it waits for the migration
    lock, or once PostgreSQL shows it blocked on a lock (an env.py that blocks
    in pg_advisory_lock(), or the version table when the advisory lock is off).
    ``driver`` names the replicas' driver when env.py is not async (the test's
    own sessions stay on asyncpg).
    """
    replica_url = url.set(drivername=f"postgresql+{driver}") if driver else url
    environment = alembic_env(replica_url, **settings)
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
    return alembic_environment(DATABASE_URL=url_text(url), **settings)
