"""Fixtures shared by the suite: databases on both dialects, and the project's config."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from cookbook import Recipe, prepare
from forkserver import alembic_forkserver
from postgres import (
    PostgresUnavailable,
    execute_autocommit,
    fresh_database,
    interrupt_on_stop_signals,
    postgres_server,
    server_version,
)
from project import FORKSERVER_BIN, compile_project, copy_project, fetch, project_config
from sqlalchemy.engine import URL, make_url

SERVER_VERSION_KEY = pytest.StashKey[str]()


FORKSERVER_KEY = pytest.StashKey[ExitStack]()
# The xdist workers of this run, while it is the controller.
WORKER_PIDS: list[int] = []


# A RAM-backed folder for the suite's throwaway files (servers' data, project copies,
# SQLite files), used when TMPDIR is unset and it has room. On this project's 2-core
# machine, writing them to disk cost about a fifth of the suite's time (page-cache
# writeback: 150 s against 118 s, back to back), and a CREATE DATABASE took 235 ms
# there against 36 ms in RAM.
MEMORY_FOLDER = Path("/dev/shm")
MEMORY_NEEDED = 4 * 2**30  # a run peaks well under 1 GB; only failed tests' folders are kept


def use_memory_for_temporary_files() -> None:
    if "TMPDIR" in os.environ or not MEMORY_FOLDER.is_dir():
        return
    if not os.access(MEMORY_FOLDER, os.W_OK):
        return
    free = os.statvfs(MEMORY_FOLDER)
    if free.f_bavail * free.f_frsize < MEMORY_NEEDED:
        return
    folder = MEMORY_FOLDER / f"alembic-skill-tests-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    os.environ["TMPDIR"] = str(folder)  # xdist workers and every child inherit it
    tempfile.tempdir = None  # the stdlib caches its first answer


def pytest_configure(config: pytest.Config) -> None:
    use_memory_for_temporary_files()
    compile_project()
    # SIGTERM (CI timeouts, `kill`) and SIGINT become KeyboardInterrupt, so session
    # fixtures tear down and the embedded PostgreSQL server is stopped. The
    # controller passes the signal on to its workers, which own the servers.
    interrupt_on_stop_signals(first=stop_workers)
    # Where tests run (an xdist worker, or a run without workers), `alembic`
    # command lines start from a fork server that has imported alembic already.
    runs_tests = hasattr(config, "workerinput") or config.getoption("dist", "no") == "no"
    if runs_tests and os.environ.get("TEST_ALEMBIC_FORKSERVER", "1") != "0":
        stack = ExitStack()
        os.environ[FORKSERVER_BIN] = str(stack.enter_context(alembic_forkserver()))
        config.stash[FORKSERVER_KEY] = stack


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_newgateway(gateway: Any) -> None:
    """Note each worker's pid (execnet keeps the answer, which xdist asks for next)."""
    WORKER_PIDS.append(gateway._rinfo().pid)


def stop_workers() -> None:
    """SIGTERM to each worker, so each stops its server now.

    Left to xdist, a worker is asked to stop by message, interrupted 5 s later
    with a SIGINT it ignores when run as a background job, and killed at 10 s:
    a killed worker leaves its server running.
    """
    for pid in WORKER_PIDS:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)


def pytest_unconfigure(config: pytest.Config) -> None:
    stack = config.stash.get(FORKSERVER_KEY, None)
    if stack is not None:
        os.environ.pop(FORKSERVER_BIN, None)
        stack.close()


def pytest_testnodedown(node: Any, error: object) -> None:
    """Under xdist, carry a worker's server version to the controller's summary."""
    version = node.workeroutput.get("postgres_version")
    if version:
        node.config.stash[SERVER_VERSION_KEY] = version


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    version = terminalreporter.config.stash.get(SERVER_VERSION_KEY, None)
    if version:
        terminalreporter.write_line(f"PostgreSQL server used by the tests: {version}")


@pytest.fixture(scope="session")
def postgres_server_url(pytestconfig: pytest.Config) -> Iterator[URL]:
    """A real PostgreSQL server for the whole session. Never skipped: fails loudly."""
    try:
        with postgres_server() as url:
            version = server_version(url)
            pytestconfig.stash[SERVER_VERSION_KEY] = version
            if hasattr(pytestconfig, "workeroutput"):  # an xdist worker
                pytestconfig.workeroutput["postgres_version"] = version
            yield url
    except PostgresUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def postgresql_url(postgres_server_url: URL) -> Iterator[URL]:
    """An empty PostgreSQL database of this test's own."""
    with fresh_database(postgres_server_url) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path) -> URL:
    """An empty SQLite file database of this test's own."""
    return make_url(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> URL:
    """An empty database, once per dialect."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def alembic_cfg(database_url: URL, monkeypatch: pytest.MonkeyPatch) -> Config:
    """The project's alembic Config, aimed at ``database_url`` the way a user would."""
    monkeypatch.setenv("DATABASE_URL", database_url.render_as_string(hide_password=False))
    return project_config()


@pytest.fixture
def alembic_cfg_postgresql(postgresql_url: URL, monkeypatch: pytest.MonkeyPatch) -> Config:
    """The project's alembic Config, aimed at an empty PostgreSQL database."""
    monkeypatch.setenv("DATABASE_URL", postgresql_url.render_as_string(hide_password=False))
    return project_config()


@pytest.fixture
def app_role(postgres_server_url: URL) -> Iterator[tuple[str, str]]:
    """(name, password) of a role that can log in and has no other rights.

    Roles belong to the whole server: the name is unique, and the role goes away
    with its privileges, in whichever test databases it was granted any.
    """
    name, password = f"app_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    asyncio.run(
        execute_autocommit(postgres_server_url, f"CREATE ROLE {name} LOGIN PASSWORD '{password}'")
    )
    try:
        yield name, password
    finally:
        granted_in = fetch(
            postgres_server_url,
            "SELECT DISTINCT d.datname FROM pg_shdepend s "
            "JOIN pg_database d ON d.oid = s.dbid JOIN pg_roles r ON r.oid = s.refobjid "
            f"WHERE r.rolname = '{name}'",
        )
        for (database,) in granted_in:
            url = postgres_server_url.set(database=database)
            asyncio.run(execute_autocommit(url, f"DROP OWNED BY {name}"))
        asyncio.run(execute_autocommit(postgres_server_url, f"DROP ROLE {name}"))


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A copy of the project for CLI runs; alembic commands there touch nothing here."""
    return copy_project(tmp_path / "project")


@pytest.fixture(scope="session")
def databases_at_head(
    postgres_server_url: URL, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, URL]]:
    """The project migrated to its head once per worker, on each dialect: recipe tests
    start from copies instead of running the project's revisions every time."""
    folder = tmp_path_factory.mktemp("at-head")
    config = Config(copy_project(folder / "project") / "alembic.ini")
    config.attributes["configure_logger"] = False
    sqlite = make_url(f"sqlite+aiosqlite:///{folder / 'head.db'}")
    with fresh_database(postgres_server_url) as postgresql:
        for url in (sqlite, postgresql):
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
                command.upgrade(config, "head")
        yield {"sqlite": sqlite, "postgresql": postgresql}


@pytest.fixture
def sqlite_url_at_head(sqlite_url: URL, databases_at_head: dict[str, URL]) -> URL:
    """A SQLite file of this test's own, at the project's head."""
    shutil.copy(str(databases_at_head["sqlite"].database), str(sqlite_url.database))
    return sqlite_url


@pytest.fixture
def postgresql_url_at_head(
    postgres_server_url: URL, databases_at_head: dict[str, URL]
) -> Iterator[URL]:
    """A PostgreSQL database of this test's own, at the project's head."""
    template = databases_at_head["postgresql"].database
    with fresh_database(postgres_server_url, template=template) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def recipe(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Recipe:
    """The project at its own head, ready for recipe files, once per dialect."""
    url = request.getfixturevalue(f"{request.param}_url_at_head")
    return prepare(tmp_path, url, monkeypatch, at_head=True)


@pytest.fixture
def postgresql_recipe(
    tmp_path: Path, postgresql_url_at_head: URL, monkeypatch: pytest.MonkeyPatch
) -> Recipe:
    """The project at its own head on PostgreSQL, for a PostgreSQL-only recipe."""
    return prepare(tmp_path, postgresql_url_at_head, monkeypatch, at_head=True)
