"""What the tests know about the project: its paths, revisions, and data access."""

from __future__ import annotations

import asyncio
import compileall
import functools
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, pool, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

PROJECT_DIR = Path(__file__).resolve().parent.parent
ALEMBIC_INI = PROJECT_DIR / "alembic.ini"
EXAMPLES = PROJECT_DIR / "examples"

# What a copy of the project needs to run alembic commands.
PROJECT_FILES = ["alembic.ini", "alembic", "models.py", "migrate.py", "pyproject.toml"]
REAL_ALEMBIC = str(Path(sys.executable).with_name("alembic"))
# The folder of tests/forkserver.py's `alembic` shim, while that server runs.
FORKSERVER_BIN = "ALEMBIC_FORKSERVER_BIN"

# The data migration under test, by its revision id.
BACKFILL_REVISION = "3525a8febceb"
# The head that recipe files in examples/ name as their first down_revision.
PLACEHOLDER_HEAD = "3525a8febceb"
DOWN_REVISION_LINE = re.compile(r'^(down_revision: [^=]+= )"(\w+)"$', re.MULTILINE)


def recipe_folder(name: str) -> list[str]:
    """A recipe folder's revision files in upgrade order: each name starts with its step."""
    files = (EXAMPLES / name).glob("*.py")
    return sorted(
        (str(p.relative_to(EXAMPLES)) for p in files),
        key=lambda f: int(Path(f).name.split("_")[0]),
    )


# Every recipe and its files, in upgrade order. test_every_example_is_tested
# keeps this in step with examples/.
RECIPES: dict[str, list[str]] = {
    "rename": ["01_rename_column.py"],
    "rename_expand_contract": [
        "01_rename_column_expand_contract/1_add_new_column.py",
        "01_rename_column_expand_contract/2_backfill_new_column.py",
        "01_rename_column_expand_contract/3_drop_old_column.py",
    ],
    "not_null": [
        "02_add_not_null_column/1_add_nullable_column.py",
        "02_add_not_null_column/2_backfill_and_check_not_valid.py",
        "02_add_not_null_column/3_validate_and_set_not_null.py",
    ],
    "index": ["03_create_index_concurrently.py"],
    "enum": [
        "04_postgresql_enum/1_create_enum_column.py",
        "04_postgresql_enum/2_add_enum_value.py",
    ],
    "batch_alter": ["05_sqlite_batch_alter.py"],
    "foreign_key": [
        "06_foreign_key_not_valid/1_add_column.py",
        "06_foreign_key_not_valid/2_index_reviewer_id.py",
        "06_foreign_key_not_valid/3_add_foreign_key_not_valid.py",
        "06_foreign_key_not_valid/4_validate_foreign_key.py",
    ],
    "split": [
        "07_split_column/1_add_name_parts.py",
        "07_split_column/2_backfill_name_parts.py",
        "07_split_column/3_drop_name.py",
    ],
    "backfill": ["08_resumable_backfill.py"],
    "merge_branches": [
        "09_merge_heads/1_branch_a_add_user_bio.py",
        "09_merge_heads/2_branch_b_add_project_archived_at.py",
    ],
    "merge": ["09_merge_heads/3_merge_heads.py"],
    "view": ["10_replace_view/1_create_view.py", "10_replace_view/2_replace_view.py"],
    "bigint_key": recipe_folder("11_bigint_primary_key"),
    "primary_key": recipe_folder("12_primary_key_using_index"),
    "grants": recipe_folder("13_grants_for_the_app_role"),
    "rollback": recipe_folder("14_rollback_in_production"),
    "lock_hygiene": recipe_folder("15_lock_hygiene"),
    "throttled_backfill": recipe_folder("16_throttled_backfill"),
    "partitions": recipe_folder("17_partitioned_table"),
    "autogenerate_postgresql": recipe_folder("18_autogenerate_postgresql"),
    "identity": recipe_folder("19_serial_to_identity"),
    "setval": recipe_folder("20_copy_rows_setval"),
}


def sigint_as_in_a_terminal() -> None:
    """A Popen preexec_fn: Ctrl-C's default back, as a command typed at a prompt has it.

    A suite started as a background job (`pytest &`) ignores SIGINT, and its
    children inherit that; a test that sends SIGINT would then see nothing happen.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


T = TypeVar("T")


def project_config() -> Config:
    """The project's Config, leaving pytest's logging setup alone."""
    config = Config(ALEMBIC_INI)
    config.attributes["configure_logger"] = False
    return config


def revision_ids() -> list[str]:
    """Every revision id, base first."""
    script = ScriptDirectory.from_config(project_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def revision_module(revision: str) -> Any:
    """The imported module of one revision file."""
    script = ScriptDirectory.from_config(project_config())
    return script.get_revision(revision).module


@functools.lru_cache(maxsize=64)
def engine_for(url: URL, isolation_level: str | None = None) -> AsyncEngine:
    """One engine per database for the helpers below, each call on a new connection.

    NullPool keeps no connection between calls (each belongs to its own event
    loop), so a call still opens a session of its own; what the engine keeps is
    SQLAlchemy's first-connect work (server version, settings), which a new
    engine per call repeated: about half of a helper call's cost.
    """
    options = {"isolation_level": isolation_level} if isolation_level else {}
    return create_async_engine(url, poolclass=pool.NullPool, **options)


def with_connection(url: URL, fn: Callable[[Connection], T]) -> T:
    """Call ``fn`` on a sync connection to ``url`` and commit; for sync tests."""

    async def run() -> T:
        async with engine_for(url).begin() as connection:
            return await connection.run_sync(fn)

    return asyncio.run(run())


def execute(url: URL, sql: str, rows: Sequence[Mapping[str, Any]] | None = None) -> None:
    """Run one statement, with executemany over ``rows`` when given."""
    with_connection(url, lambda conn: conn.execute(text(sql), list(rows) if rows else {}))


def fetch(url: URL, sql: str) -> list[tuple[Any, ...]]:
    """Rows of a query, as plain tuples."""
    return with_connection(url, lambda conn: [tuple(r) for r in conn.execute(text(sql))])


def reflect_schema(conn: Connection) -> dict[str, dict[str, Any]]:
    """Tables with their columns, indexes, unique and foreign keys, as reflected."""
    inspector = inspect(conn)
    return {
        table: {
            "columns": sorted(
                (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
            ),
            "indexes": sorted(i["name"] or "" for i in inspector.get_indexes(table)),
            "unique": sorted(u["name"] or "" for u in inspector.get_unique_constraints(table)),
            "foreign_keys": sorted(f["name"] or "" for f in inspector.get_foreign_keys(table)),
        }
        for table in sorted(inspector.get_table_names())
    }


def schema(url: URL) -> dict[str, dict[str, Any]]:
    """The reflected schema of the database at ``url``."""
    return with_connection(url, reflect_schema)


def copy_project(destination: Path) -> Path:
    """Copy what alembic needs into ``destination``; its app.db is the default database.

    Files keep their modification times, and the compiled bytecode that
    compile_project() left beside them comes along: Python finds it still valid,
    so the hundreds of alembic commands of a run do not each compile env.py again.
    """
    destination.mkdir()
    for name in PROJECT_FILES:
        source = PROJECT_DIR / name
        if source.is_dir():
            shutil.copytree(source, destination / name, copy_function=shutil.copy2)
        else:
            shutil.copy2(source, destination / name)
    return destination


def compile_project() -> None:
    """Byte-compile the project's own Python once, where stale or missing.

    With PYTHONDONTWRITEBYTECODE set (as on this project's machines) no process
    writes bytecode, so each alembic command compiled env.py again, and each
    run of a script compiled its whole package. Bytecode is still read where it
    exists; copy_project() carries env.py's along.
    """
    for folder in (PROJECT_DIR / "alembic", PROJECT_DIR / "alembic" / "versions"):
        compileall.compile_dir(folder, maxlevels=0, quiet=1)
    for folder in (PROJECT_DIR / "scripts", PROJECT_DIR / "bench"):
        compileall.compile_dir(folder, quiet=1)
    for module in ("models.py", "migrate.py"):
        compileall.compile_file(PROJECT_DIR / module, quiet=1)


def install_revisions(
    project: Path, base: str, *files: str | Path, batch_size: int | None = None
) -> None:
    """Copy revision files into a project copy (names relative to examples/, or paths).

    A down_revision naming the placeholder head gets ``base``; ``batch_size``
    replaces a recipe's ``BATCH_SIZE = ...`` line.
    """
    versions = project / "alembic" / "versions"
    for name in files:
        text = (name if isinstance(name, Path) else EXAMPLES / name).read_text()
        text = DOWN_REVISION_LINE.sub(
            lambda m: f'{m[1]}"{base}"' if m[2] == PLACEHOLDER_HEAD else m[0], text
        )
        if batch_size is not None:
            text = re.sub(r"^BATCH_SIZE = \d+$", f"BATCH_SIZE = {batch_size}", text, flags=re.M)
        (versions / Path(name).name).write_text(text)


def example_revision(relative: str) -> str:
    """The revision id a recipe file in examples/ declares."""
    match = re.search(r'^revision: str = "(\w+)"$', (EXAMPLES / relative).read_text(), re.M)
    assert match, f"{relative} declares no revision"
    return match[1]


def alembic_executable() -> str:
    """The `alembic` to start: the fork server's shim when it runs, else the venv's."""
    shim_folder = os.environ.get(FORKSERVER_BIN)
    return str(Path(shim_folder) / "alembic") if shim_folder else REAL_ALEMBIC


def url_text(url: URL) -> str:
    """The URL with its password, for a child's DATABASE_URL or a script's --postgres-url."""
    return url.render_as_string(hide_password=False)


def python_executable() -> str:
    """`python` for `python SCRIPT ARGS`: the fork server's shim when it runs, else this one."""
    shim_folder = os.environ.get(FORKSERVER_BIN)
    return str(Path(shim_folder) / "python-script") if shim_folder else sys.executable


def alembic_environment(**settings: str) -> dict[str, str]:
    """This environment for a child process: `alembic` (as alembic_executable())
    and the venv's ruff first on PATH, no inherited DATABASE_URL, then ``settings``."""
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    folders = [str(Path(alembic_executable()).parent), str(Path(sys.executable).parent)]
    environment["PATH"] = os.pathsep.join([*folders, environment["PATH"]])
    return environment | settings


def alembic(
    cwd: Path, command: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run one `alembic ...` command line as a user would type it, in ``cwd``."""
    args = shlex.split(command)
    assert args[0] == "alembic"
    environment = alembic_environment(**(env or {}))
    return subprocess.run(
        [alembic_executable(), *args[1:]], cwd=cwd, env=environment, capture_output=True, text=True
    )


@contextmanager
def transaction_held(
    url: URL, *statements: str, isolation_level: str | None = None
) -> Iterator[None]:
    """Run ``statements`` in another session and keep its transaction open until exit.

    Stands for a long report, an idle-in-transaction session or a running query.
    """
    started, release = threading.Event(), threading.Event()
    failure: list[BaseException] = []

    async def hold() -> None:
        options = {"isolation_level": isolation_level} if isolation_level else {}
        engine = create_async_engine(url, poolclass=pool.NullPool, **options)
        try:
            async with engine.connect() as connection:
                for statement in statements:
                    await connection.execute(text(statement))
                started.set()
                await asyncio.to_thread(release.wait)
                await connection.rollback()
        finally:
            await engine.dispose()

    def run() -> None:
        try:
            asyncio.run(hold())
        except BaseException as exc:  # reported to the test below
            failure.append(exc)
            started.set()

    holder = threading.Thread(target=run)
    holder.start()
    started.wait(30)
    try:
        assert not failure, failure
        yield
    finally:
        release.set()
        holder.join(30)


def table_locked(url: URL, table: str, mode: str = "ACCESS SHARE") -> AbstractContextManager[None]:
    """Hold a lock on ``table`` from another session, like a long-running query."""
    return transaction_held(url, f"LOCK TABLE {table} IN {mode} MODE")
