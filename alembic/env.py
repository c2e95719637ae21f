"""Alembic environment: async SQLAlchemy, offline SQL, and connection sharing.

Grown from ``alembic init -t async``. What it adds, and why:

* The URL comes from ``DATABASE_URL`` (default: ``app.db`` next to alembic.ini)
  and never passes through alembic.ini, so no password lives in the repository
  and a ``%`` in a password cannot break ConfigParser interpolation.
* A connection handed in through ``config.attributes["connection"]`` is reused,
  so tests and application startup can migrate from inside a running event loop.
* SQLite gets ``render_as_batch``; every revision commits on its own
  (``transaction_per_migration``); autogenerate compares server defaults and
  never writes an empty revision.
"""

import asyncio
import logging
import os
from logging.config import fileConfig
from pathlib import Path
from typing import Any

from alembic import context
from alembic.operations.ops import MigrationScript
from alembic.runtime.migration import MigrationContext
from alembic.util import CommandError
from sqlalchemy import pool
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from models import Base

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Interpret the config file for Python logging, unless the caller (an
# application that migrates at startup) keeps its own logging setup.
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name)

log = logging.getLogger("alembic.env")

target_metadata = Base.metadata

# The project root: alembic.ini, models.py and the default SQLite file live here.
PROJECT_DIR = Path(__file__).resolve().parent.parent

# A URL without a driver ("postgresql://...", as hosting platforms hand out)
# gets the async driver; a sync driver would fail under the async engine.
ASYNC_DRIVERS = {
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
}


def database_url() -> URL:
    """The target database, from DATABASE_URL or the project's SQLite file.

    Absolute, so running alembic from another directory creates no stray file.
    """
    raw = os.environ.get("DATABASE_URL") or f"sqlite+aiosqlite:///{PROJECT_DIR / 'app.db'}"
    try:
        url = make_url(raw)
        url = url.set(drivername=ASYNC_DRIVERS.get(url.drivername, url.drivername))
        url.get_dialect()
    except NoSuchModuleError:  # a subclass of ArgumentError: test it first
        raise CommandError(
            f"DATABASE_URL names an unknown database driver {url.drivername!r} "
            "(use sqlite+aiosqlite or postgresql+asyncpg)"
        ) from None
    except ArgumentError:
        raise CommandError(
            "DATABASE_URL is not a valid SQLAlchemy URL "
            "(expected e.g. postgresql+asyncpg://user:password@host/dbname)"
        ) from None
    return url


def url_for_humans(url: URL) -> str:
    """The URL with its password masked, for messages and logs."""
    return url.render_as_string(hide_password=True)


def skip_empty_autogenerate(
    context: MigrationContext, revision: Any, directives: list[MigrationScript]
) -> None:
    """Write no revision file when autogenerate finds no change (alembic cookbook)."""
    cmd_opts = config.cmd_opts
    if cmd_opts is not None and getattr(cmd_opts, "autogenerate", False):
        script = directives[0]
        if script.upgrade_ops is not None and script.upgrade_ops.is_empty():
            directives[:] = []
            log.info("No changes in schema detected; no revision written.")


def configure_options(dialect_name: str) -> dict[str, Any]:
    """Options shared by online and offline runs."""
    return {
        "target_metadata": target_metadata,
        # SQLite cannot ALTER most things: emit batch (copy-and-move) operations.
        "render_as_batch": dialect_name == "sqlite",
        "compare_server_default": True,
        # Each revision commits on its own: autocommit_block() works, and a
        # failure in revision N leaves the revisions before N applied.
        "transaction_per_migration": True,
        "process_revision_directives": skip_empty_autogenerate,
    }


def run_migrations_offline() -> None:
    """Run migrations in 'offline' mode: print SQL, touch no database.

    ``alembic upgrade head --sql`` lands here. No DBAPI is imported, so this
    works for a PostgreSQL URL on a machine without the server.
    """
    url = database_url()
    context.configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **configure_options(url.get_backend_name()),
    )

    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, **configure_options(connection.dialect.name))

    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations(engine: AsyncEngine, url_text: str) -> None:
    """Open one connection on ``engine`` and run the migrations through it."""
    try:
        connection = await engine.connect()
    except (OSError, SQLAlchemyError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise CommandError(f"cannot connect to {url_text}: {reason}") from None
    try:
        await connection.run_sync(do_run_migrations)
    finally:
        await connection.close()


async def run_with_own_engine(url: URL) -> None:
    """Migrate through a throwaway engine: NullPool, disposed afterwards."""
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        await run_async_migrations(engine, url_for_humans(url))
    finally:
        await engine.dispose()


def running_event_loop() -> bool:
    """True inside async code, where asyncio.run() would fail."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def run_migrations_online() -> None:
    """Run migrations in 'online' mode.

    ``config.attributes["connection"]`` may hold:

    * a sync ``Connection``: the caller is already inside an event loop and
      used ``await conn.run_sync(...)``; migrate on it directly;
    * an ``AsyncEngine`` (pytest-alembic's async support): migrate through it,
      leaving the caller's engine undisposed;
    * nothing: create an engine from ``DATABASE_URL``.
    """
    connectable = config.attributes.get("connection")
    if isinstance(connectable, Connection):
        do_run_migrations(connectable)
    elif isinstance(connectable, AsyncEngine):
        asyncio.run(run_async_migrations(connectable, url_for_humans(connectable.url)))
    elif connectable is None:
        if running_event_loop():
            raise CommandError(
                "alembic was called from a running event loop, where asyncio.run() fails: "
                'pass a connection in config.attributes["connection"] (see migrate.py)'
            )
        asyncio.run(run_with_own_engine(database_url()))
    else:
        raise CommandError(
            'config.attributes["connection"] must be a Connection or an AsyncEngine, '
            f"not {type(connectable).__name__}"
        )


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
