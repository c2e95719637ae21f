"""Alembic environment: async SQLAlchemy, offline SQL, and connection sharing.

Grown from ``alembic init -t async``; a drop-in for such projects (this
skill's assets/env.py; assets/env_sync.py for sync drivers). Change only the
line marked EDIT. What it adds, and why:

* The URL comes from ``DATABASE_URL``, else from ``sqlalchemy.url`` in
  alembic.ini (keep passwords out of it: a ``%`` there breaks ConfigParser
  interpolation). alembic init's placeholder URL is an error, never a guess.
* A connection handed in through ``config.attributes["connection"]`` is reused,
  so tests and application startup can migrate from inside a running event loop.
* SQLite gets ``render_as_batch``; every revision commits on its own
  (``transaction_per_migration``); autogenerate compares server defaults and
  never writes an empty revision.
* PostgreSQL runs hold a session-level advisory lock, so replicas that all
  run ``alembic upgrade head`` at once apply each revision once; waiters poll
  for it and hold no snapshot, which a concurrent index build would wait on.
* They set ``lock_timeout``/``statement_timeout``, so a migration stuck
  behind a long transaction fails fast instead of queueing every query
  behind it; CREATE INDEX CONCURRENTLY alone waits without lock_timeout.
* A failure says what it left: inside autocommit_block() nothing is rolled
  back, and a failed concurrent build leaves an INVALID index.
* An upgrade that finds a revision of a newer release (an old pod restarting
  during a rolling deploy) logs a warning and migrates nothing.
* SQLite DDL runs inside real transactions, so a failed revision leaves no
  half-applied schema (the sqlite3 driver would otherwise commit DDL as it goes).
* A password is never printed, and one with an unencoded ``@`` is refused
  with the line that encodes it.
"""

import asyncio
import hashlib
import logging
import os
import random
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from logging.config import fileConfig
from typing import Any

from alembic import context
from alembic.operations.ops import MigrationScript
from alembic.runtime.migration import MigrationContext
from alembic.script.revision import ResolutionError
from alembic.util import CommandError
from sqlalchemy import event, pool, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from models import Base  # EDIT: import your models' declarative Base (or edit the next line)

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Interpret the config file for Python logging, unless the caller (an
# application that migrates at startup) keeps its own logging setup.
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name)

log = logging.getLogger("alembic.env")

target_metadata = Base.metadata

# A URL without a driver ("postgresql://...", as hosting platforms hand out)
# gets the async driver; a sync driver would fail under the async engine.
DRIVERS = {
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
}
DRIVER_EXAMPLES = "postgresql+asyncpg or sqlite+aiosqlite"
# What `alembic init` writes into alembic.ini: not a database.
PLACEHOLDER_URL = "driver://user:pass@localhost/dbname"
ENCODE_PASSWORD = (
    "python -c \"import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=''))\" "
    "'the password'"
)

# Settings: `-x name=value`, else MIGRATION_<NAME>, else these (the timeouts and
# the advisory lock apply to PostgreSQL only).
SETTING_DEFAULTS = {
    # Give up on a lock after this long instead of queueing all traffic behind it.
    "lock_timeout": "5s",
    # Upper bound for one statement; raise it for index builds on huge tables.
    "statement_timeout": "1h",
    # Serialize concurrent `alembic upgrade` runs; "false" only to see the race.
    "advisory_lock": "true",
    # An upgrade that finds a revision this code lacks (a newer release migrated
    # the database): "warn" logs one line and migrates nothing; "fail" stops.
    "unknown_revision": "warn",
}

LOCK_NOT_AVAILABLE = "55P03"  # SQLSTATE raised when lock_timeout expires
QUERY_CANCELED = "57014"  # SQLSTATE raised when statement_timeout expires
# CREATE/DROP INDEX CONCURRENTLY: the index name is what a failure leaves behind.
CONCURRENT_INDEX_BUILD = re.compile(
    r"\s*(?P<verb>CREATE\s+(?:UNIQUE\s+)?INDEX|DROP\s+INDEX)\s+CONCURRENTLY\s+"
    r"(?:IF\s+(?:NOT\s+)?EXISTS\s+)?(?P<index>\"?[\w.]+\"?)",
    re.IGNORECASE,
)
TABLE_IN_SQL = re.compile(
    r"\b(?:TABLE|ON|INTO|UPDATE|FROM)\s+(?:IF (?:NOT )?EXISTS\s+|ONLY\s+)?(\"?[\w.]+\"?)",
    re.IGNORECASE,
)


def configured_url() -> str:
    """DATABASE_URL, else sqlalchemy.url from the project's config, as text."""
    try:
        from_config = config.get_main_option("sqlalchemy.url")
    except CommandError:  # a pyproject.toml-only project has no [alembic] section
        from_config = None
    raw = os.environ.get("DATABASE_URL") or from_config or ""
    if not raw or raw == PLACEHOLDER_URL:
        raise CommandError(
            "no database URL: set DATABASE_URL (for example sqlite:///app.db) "
            "or sqlalchemy.url in alembic.ini"
        )
    # user:p@ss@host would be read as host "ss@host", and half the password shown.
    if raw.split("://", 1)[-1].split("?", 1)[0].count("@") > 1:
        raise CommandError(
            "the database URL has more than one '@' before its host: a password with "
            f"@ : / % # must be URL-encoded: {ENCODE_PASSWORD}"
        )
    return raw


def database_url() -> URL:
    """The target database, with the driver this env.py runs on."""
    try:
        url = make_url(configured_url())
        url = url.set(drivername=DRIVERS.get(url.drivername, url.drivername))
        dialect = url.get_dialect()
    except NoSuchModuleError:  # a subclass of ArgumentError: test it first
        raise CommandError(
            f"DATABASE_URL names an unknown database driver {url.drivername!r} "
            f"(use {DRIVER_EXAMPLES})"
        ) from None
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise CommandError(
            "DATABASE_URL is not a valid SQLAlchemy URL "
            "(expected e.g. postgresql://user:password@host/dbname)"
        ) from None
    return with_driver(url, dialect)


def with_driver(url: URL, dialect: Any) -> URL:
    """Refuse a sync driver; translate libpq's ?sslmode= for asyncpg."""
    if not dialect.is_async:
        raise CommandError(
            f"DATABASE_URL names the synchronous driver {url.drivername!r}; "
            f"this env.py is async: use {DRIVER_EXAMPLES}"
        )
    if url.get_driver_name() == "asyncpg" and "sslmode" in url.query:
        # Hosting platforms hand out libpq's ?sslmode=; asyncpg calls it ssl.
        sslmode = url.query["sslmode"]
        url = url.difference_update_query(["sslmode"]).update_query_dict({"ssl": sslmode})
    return url


def url_for_humans(url: URL) -> str:
    """The URL with its password masked, for messages and logs."""
    return url.render_as_string(hide_password=True)


def migration_setting(name: str) -> str:
    """A safety setting from ``-x name=value``, MIGRATION_<NAME>, or its default."""
    x_arguments = context.get_x_argument(as_dictionary=True)
    return (
        x_arguments.get(name)
        or os.environ.get(f"MIGRATION_{name.upper()}")
        or SETTING_DEFAULTS[name]
    )


def advisory_lock_key(version_table: str = "alembic_version") -> int:
    """The advisory lock key for a version table: a fixed signed 64-bit number.

    The first 8 bytes of SHA-256 of the table name; for "alembic_version" it is
    7513836529976115471. Any tool that takes the same key waits for migrations.
    """
    digest = hashlib.sha256(version_table.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def read_only_command() -> bool:
    """True for read-only runs: `alembic current`, migrate.schema_status().

    A read (a readiness probe) must not queue behind a running migration's lock.
    """
    return bool(context.get_context().opts.get("dont_mutate"))


TRY_MIGRATION_LOCK = text("SELECT pg_try_advisory_lock(:key)")
MIGRATION_LOCK_HOLDER = text(
    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND ((classid::bigint << 32) | objid::bigint) = :key"
)
# Pauses between attempts grow from the first to the last, with jitter.
LOCK_POLL_SECONDS = (0.05, 1.0)


def acquire_migration_lock(connection: Connection, key: int) -> None:
    """Take the session-level advisory lock without ever blocking in pg_advisory_lock().

    A waiter blocked in pg_advisory_lock() holds a snapshot while it waits, in
    a transaction block or not. CREATE INDEX CONCURRENTLY, run by the lock
    holder, waits for every older snapshot in the database: holder and waiter
    deadlock. So each attempt is a pg_try_advisory_lock() whose transaction
    ends before the pause.
    """
    pause, longest = LOCK_POLL_SECONDS
    reported_holder = None
    while True:
        acquired = connection.execute(TRY_MIGRATION_LOCK, {"key": key}).scalar_one()
        holder = (
            None if acquired else connection.execute(MIGRATION_LOCK_HOLDER, {"key": key}).scalar()
        )
        connection.commit()
        if acquired:
            return
        if holder is not None and holder != reported_holder:
            log.info("waiting for the migration lock (held by pid %s)", holder)
            reported_holder = holder
        time.sleep(pause * random.uniform(0.5, 1.0))
        pause = min(pause * 2, longest)


@contextmanager
def postgresql_guard(connection: Connection) -> Iterator[dict[str, str]]:
    """Session timeouts and the advisory lock, held across every revision.

    Session-level, not transaction-level: autocommit_block() and
    transaction_per_migration commit along the way, which would release a
    transaction-level lock. Yields the timeouts in force. The previous
    settings come back afterwards, because a connection handed in by the
    application returns to its pool.
    """
    take_lock = (
        migration_setting("advisory_lock").lower() not in ("false", "0", "no", "off")
        and not read_only_command()
    )
    previous = connection.execute(
        text("SELECT current_setting('lock_timeout'), current_setting('statement_timeout')")
    ).one()
    try:
        applied = connection.execute(
            text(
                "SELECT set_config('lock_timeout', :lock_timeout, false), "
                "set_config('statement_timeout', :statement_timeout, false)"
            ),
            {name: migration_setting(name) for name in ("lock_timeout", "statement_timeout")},
        ).one()
    except DBAPIError as exc:
        connection.rollback()
        raise CommandError(f"invalid timeout setting: {first_line(exc)}") from None
    # alembic must find no transaction open, or it treats the run as external.
    connection.commit()
    if take_lock:
        try:
            acquire_migration_lock(connection, advisory_lock_key())
        except DBAPIError as exc:
            raise CommandError(
                f"waiting for the migration lock failed: {first_line(exc)}"
            ) from None
    try:
        with concurrent_builds_without_lock_timeout(connection, lock_timeout=applied[0]):
            yield {"lock_timeout": applied[0], "statement_timeout": applied[1]}
    finally:
        connection.rollback()
        if take_lock:
            connection.execute(
                text("SELECT pg_advisory_unlock(:key)"), {"key": advisory_lock_key()}
            )
        connection.execute(
            text(
                "SELECT set_config('lock_timeout', :lock_timeout, false), "
                "set_config('statement_timeout', :statement_timeout, false)"
            ),
            {"lock_timeout": previous[0], "statement_timeout": previous[1]},
        )
        connection.commit()


def builds_index_concurrently(statement: str) -> bool:
    """CREATE INDEX CONCURRENTLY; a concurrent DROP keeps lock_timeout: if it gives
    up, the index it leaves is unchanged or INVALID, and a rerun drops it."""
    match = CONCURRENT_INDEX_BUILD.match(statement)
    return match is not None and match["verb"].upper().startswith("CREATE")


def run_on_driver(connection: Connection, sql: str) -> None:
    """Run ``sql`` on the connection's own cursor, outside SQLAlchemy's events."""
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql)
    finally:
        cursor.close()


@contextmanager
def concurrent_builds_without_lock_timeout(
    connection: Connection, lock_timeout: str
) -> Iterator[None]:
    """Let CREATE INDEX CONCURRENTLY wait for old snapshots as long as statement_timeout allows.

    A concurrent build waits for every transaction in the database that holds
    an older snapshot, and lock_timeout cuts that wait short: a long report on
    any table would cancel the build and leave an INVALID index. The build's
    own lock (SHARE UPDATE EXCLUSIVE) blocks no reads or writes (only VACUUM,
    ANALYZE and DDL on that table wait); statement_timeout still bounds it.
    """
    restore = "SET lock_timeout = '{}'".format(lock_timeout.replace("'", "''"))

    def lift(conn: Connection, cursor: Any, statement: str, *_: Any) -> None:
        if builds_index_concurrently(statement):
            run_on_driver(conn, "SET lock_timeout = 0")

    def put_back(conn: Connection, cursor: Any, statement: str, *_: Any) -> None:
        if builds_index_concurrently(statement):
            run_on_driver(conn, restore)

    event.listen(connection, "before_cursor_execute", lift)
    event.listen(connection, "after_cursor_execute", put_back)
    try:
        yield  # after a failed build, the guard restores the session's settings
    finally:
        event.remove(connection, "before_cursor_execute", lift)
        event.remove(connection, "after_cursor_execute", put_back)


@contextmanager
def sqlite_transactional_ddl(connection: Connection) -> Iterator[dict[str, str]]:
    """Make SQLite DDL transactional, so a failed revision rolls back whole.

    Python's sqlite3 driver only opens a transaction before DML, so DDL would
    commit statement by statement. This lets SQLite see a real BEGIN instead
    (SQLAlchemy's documented pysqlite/aiosqlite recipe), except in AUTOCOMMIT.
    """
    dbapi_connection = connection.connection.dbapi_connection
    assert dbapi_connection is not None
    driver_isolation = dbapi_connection.isolation_level
    dbapi_connection.isolation_level = None  # type: ignore[attr-defined]

    def emit_begin(conn: Connection) -> None:
        if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            conn.exec_driver_sql("BEGIN")

    event.listen(connection, "begin", emit_begin)
    try:
        yield {}
    finally:
        event.remove(connection, "begin", emit_begin)
        connection.rollback()
        dbapi_connection.isolation_level = driver_isolation  # type: ignore[attr-defined]


def cannot_connect(url_text: str, exc: BaseException) -> str:
    """One line for a failed connection; a failed password gets the encoding hint."""
    reason = first_line(exc)
    if "password authentication failed" in reason:
        reason += f" (a password with @ : / % # must be URL-encoded: {ENCODE_PASSWORD})"
    return f"cannot connect to {url_text}: {reason}"


def first_line(exc: BaseException) -> str:
    """The driver's own message, without SQLAlchemy's SQL echo and links."""
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]


ROLLED_BACK = (
    "The failed revision's transaction was rolled back (revisions before it stay applied); retry."
)
NOT_ROLLED_BACK = (
    "Nothing was rolled back: it ran in autocommit_block(), so what the block committed "
    "before it stays and alembic_version is still at the previous revision; rerun once "
    "the cause is gone (the revision must be safe to rerun)."
)
INDEX_IS_INVALID = text(
    "SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass(:index_name)"
)


@contextmanager
def failure_site(connection: Connection) -> Iterator[dict[str, bool]]:
    """Record whether the statement that failed ran in autocommit_block().

    Inside the block each statement commits on its own: a failure there rolls
    nothing back, and the message must not claim otherwise.
    """
    site = {"autocommit": False}

    def note(conn: Connection, *_: Any) -> None:
        site["autocommit"] = conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT"

    # Noted before every statement: the last one noted is the one that failed.
    event.listen(connection, "before_cursor_execute", note)
    try:
        yield site
    finally:
        event.remove(connection, "before_cursor_execute", note)


def invalid_index_left(connection: Connection, statement: str) -> str | None:
    """The index a failed concurrent build or drop left INVALID, if it did."""
    match = CONCURRENT_INDEX_BUILD.match(statement)
    if match is None or connection.dialect.name != "postgresql":
        return None
    try:
        invalid = connection.execute(INDEX_IS_INVALID, {"index_name": match["index"]}).scalar()
    finally:
        connection.rollback()
    return match["index"] if invalid else None


def describe_failure(
    exc: DBAPIError, timeouts: dict[str, str], in_autocommit: bool, invalid_index: str | None
) -> str:
    """One line for a failed statement: what happened, where, and what it left behind."""
    statement = " ".join((exc.statement or "").split())
    match = TABLE_IN_SQL.search(statement)
    table = f"table {match.group(1)}" if match else "the database"
    build = CONCURRENT_INDEX_BUILD.match(statement)
    aftermath = NOT_ROLLED_BACK if in_autocommit else ROLLED_BACK
    if invalid_index:
        aftermath += (
            f" It left the INVALID index {invalid_index} behind: rerun (recipe 03 drops an "
            f"INVALID leftover before it builds) or DROP INDEX CONCURRENTLY {invalid_index}."
        )
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate == LOCK_NOT_AVAILABLE:
        return (
            f"lock timeout: could not lock {table} within lock_timeout="
            f"{timeouts.get('lock_timeout')}; another session holds a conflicting lock. "
            f"{aftermath} Statement: {statement[:200]}"
        )
    if sqlstate == QUERY_CANCELED:
        subject = (
            f"{' '.join(build['verb'].upper().split())} CONCURRENTLY {build['index']}"
            if build
            else f"a statement on {table}"
        )
        waits = (
            " (a concurrent build also waits for every older transaction in the database; "
            "see pg_stat_activity)"
            if build
            else ""
        )
        return (
            f"statement timeout: {subject} ran longer than statement_timeout="
            f"{timeouts.get('statement_timeout')}{waits}. {aftermath} "
            f"Statement: {statement[:200]}"
        )
    tail = f" {aftermath}" if in_autocommit or invalid_index else ""
    return f"{first_line(exc)} (on {table}).{tail} Statement: {statement[:200]}"


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


def is_upgrade() -> bool:
    """True for `alembic upgrade` and command.upgrade(), the command a startup runs."""
    fn = context.get_context().opts.get("fn")
    return getattr(fn, "__module__", None) == "alembic.command" and fn.__name__ == "upgrade"


def revisions_unknown_here(connection: Connection) -> list[str]:
    """The database's revisions that no file of this code has."""
    heads = context.get_context().get_current_heads()
    connection.commit()  # the read leaves no transaction for alembic to find
    revision_map = context.script.revision_map
    unknown = []
    for revision in heads:
        try:
            revision_map.get_revision(revision)
        except ResolutionError:
            unknown.append(revision)
    return unknown


def unknown_revision_choice() -> str:
    """The unknown_revision setting, checked before it is needed: "warn" or "fail"."""
    choice = migration_setting("unknown_revision").lower()
    if choice not in ("warn", "fail"):
        raise CommandError(f"unknown_revision must be warn or fail, not {choice!r}")
    return choice


def newer_database(unknown: list[str], choice: str) -> None:
    """An old release's upgrade on a database a newer release migrated.

    That is normal during a rolling deploy, or when an old pod restarts: let
    it start (one warning line) rather than crash-loop on "Can't locate revision".
    """
    what = (
        f"the database is at {', '.join(unknown)}, which this code does not know "
        "(a newer release migrated it)"
    )
    if choice == "fail":
        raise CommandError(
            f"{what}. Deploy that release, or downgrade with its scripts "
            "(references/deploying.md#rolling-back)"
        )
    log.warning(
        "%s; not migrating. Set MIGRATION_UNKNOWN_REVISION=fail to make this an error.", what
    )


def do_run_migrations(connection: Connection) -> None:
    if connection.in_transaction():
        raise CommandError(
            "the connection given to alembic has a transaction open (engine.begin()?): "
            "pass one from engine.connect(); each revision commits on its own"
        )
    dialect_name = connection.dialect.name
    guard = {"postgresql": postgresql_guard, "sqlite": sqlite_transactional_ddl}.get(dialect_name)
    # Configure first, with no transaction open: alembic then runs its own.
    context.configure(connection=connection, **configure_options(dialect_name))
    on_unknown_revision = unknown_revision_choice() if is_upgrade() else None
    with (
        guard(connection) if guard else nullcontext({}) as timeouts,
        failure_site(connection) as site,
    ):
        if on_unknown_revision and (unknown := revisions_unknown_here(connection)):
            newer_database(unknown, on_unknown_revision)
            return
        try:
            with context.begin_transaction():
                context.run_migrations()
        except DBAPIError as exc:
            in_autocommit = site["autocommit"]  # read before another statement runs
            left = invalid_index_left(connection, exc.statement or "")
            raise CommandError(describe_failure(exc, timeouts, in_autocommit, left)) from exc


async def run_async_migrations(engine: AsyncEngine, url_text: str) -> None:
    """Open one connection on ``engine`` and run the migrations through it."""
    try:
        connection = await engine.connect()
    except (OSError, SQLAlchemyError) as exc:
        raise CommandError(cannot_connect(url_text, exc)) from None
    try:
        await connection.run_sync(do_run_migrations)
    finally:
        await connection.close()


async def run_with_own_engine(url: URL) -> None:
    """Migrate through a throwaway engine: NullPool, disposed afterwards."""
    try:
        engine = create_async_engine(url, poolclass=pool.NullPool)
    except ArgumentError as exc:  # e.g. ?port=x, which make_url() lets through
        raise CommandError(f"DATABASE_URL is not usable: {first_line(exc)}") from None
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
    unknown_revision_choice()  # a misspelt setting fails before anything connects
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
