"""The benchmark's databases: where they come from, how they are seeded and reset.

PostgreSQL is resolved exactly as in the tests (tests/postgres.py):
TEST_POSTGRES_URL when set, otherwise a throwaway embedded server.
"""

from __future__ import annotations

import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager as ContextManager
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import pool, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(PROJECT_DIR), str(PROJECT_DIR / "tests")]

import postgres  # noqa: E402  (tests/postgres.py: the suite's server resolution)

import migrate  # noqa: E402  (needs the project root on sys.path)

ADMIN_DOMAIN = "mycompany.com"  # every seeded user matches, so the backfill touches every row
SQLITE_INSERT_CHUNK = 50_000


def engine_for(url: URL) -> AsyncEngine:
    connect_args = {"timeout": 600} if url.get_backend_name() == "sqlite" else {}
    return create_async_engine(url, poolclass=pool.NullPool, connect_args=connect_args)


@contextmanager
def database_server(dialect: str) -> Iterator[tuple[Callable[[], ContextManager[URL]], str]]:
    """A way to make empty databases of ``dialect``, and the server's version."""
    if dialect == "sqlite":
        import sqlite3

        with tempfile.TemporaryDirectory(prefix="bench-sqlite-") as folder:
            count = iter(range(1_000_000))

            @contextmanager
            def new_file() -> Iterator[URL]:
                yield make_url(f"sqlite+aiosqlite:///{folder}/bench{next(count)}.db")

            yield new_file, f"SQLite {sqlite3.sqlite_version}"
        return
    with postgres.postgres_server() as server:
        yield (lambda: postgres.fresh_database(server)), postgres.server_version(server)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def seed(engine: AsyncEngine, rows: int, sqlite_journal: str = "wal") -> list[str]:
    """Migrate to head, fill users_seed with ``rows`` users (random uuid4 ids); return the ids.

    SQLite runs in ``sqlite_journal`` mode: WAL is what the skill recommends when
    an application writes during a backfill; "delete" is SQLite's default.
    """
    if engine.dialect.name == "sqlite":
        async with engine.connect() as connection:
            await connection.exec_driver_sql(f"PRAGMA journal_mode={sqlite_journal}")
            await connection.commit()
    await migrate.upgrade_database(engine)
    ids = [str(uuid.uuid4()) for _ in range(rows)]
    records = [(user_id, f"user{i}@{ADMIN_DOMAIN}", f"user {i}") for i, user_id in enumerate(ids)]
    started = time.perf_counter()
    progress(f"seeding {rows:,} users ...")
    async with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            raw = await connection.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            await driver.copy_records_to_table(
                "users", records=records, columns=["id", "email", "name"]
            )
        else:
            insert = text("INSERT INTO users (id, email, name) VALUES (:id, :email, :name)")
            for start in range(0, rows, SQLITE_INSERT_CHUNK):
                chunk = records[start : start + SQLITE_INSERT_CHUNK]
                await connection.execute(
                    insert, [{"id": i, "email": e, "name": n} for i, e, n in chunk]
                )
                await connection.commit()
                progress(f"  {start + len(chunk):,} / {rows:,}")
        await connection.execute(text("CREATE TABLE users_seed AS SELECT * FROM users"))
        await connection.commit()
    progress(f"seeded {rows:,} users in {time.perf_counter() - started:.1f}s")
    return ids


async def reset(engine: AsyncEngine, rows: int | None = None) -> None:
    """A fresh copy of the seeded table (its first ``rows`` rows), with no extra index."""
    limit = f" LIMIT {int(rows)}" if rows is not None else ""
    async with engine.connect() as connection:
        postgresql = connection.dialect.name == "postgresql"
        await connection.execute(text("DROP INDEX IF EXISTS ix_users_name"))
        await connection.execute(text("DELETE FROM projects"))
        if postgresql:
            await connection.execute(text("TRUNCATE users CASCADE"))
        else:
            await connection.execute(text("DELETE FROM users"))
        await connection.execute(text(f"INSERT INTO users SELECT * FROM users_seed{limit}"))
        await connection.commit()
        if postgresql:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("VACUUM ANALYZE users"))
            await autocommit.execute(text("CHECKPOINT"))
