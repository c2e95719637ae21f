"""Someone's Alembic project, driven through its own env.py against a scratch database.

The project is found the way the ``alembic`` command finds it (alembic.ini
and pyproject.toml in the working directory, or ``-c``). env.py is never
edited: the scratch URL goes where env.py files look for one, the
``sqlalchemy.url`` option and an environment variable. Before anything
runs, a read-only pass through env.py checks that it really connects there.
"""

from __future__ import annotations

import importlib.util
import io
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext, MigrationStep
from alembic.script import Script, ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from .errors import ProofError, first_line
from .scratch import shown

# Drivers to address a scratch database with, best first, and the module each needs.
ASYNC_DRIVERS = {
    "sqlite": [("aiosqlite", "aiosqlite")],
    "postgresql": [("asyncpg", "asyncpg"), ("psycopg_async", "psycopg")],
}
SYNC_DRIVERS = {
    "sqlite": [("pysqlite", "sqlite3")],
    "postgresql": [("psycopg", "psycopg"), ("psycopg2", "psycopg2")],
}
PIP_NAMES = {"aiosqlite": "aiosqlite", "asyncpg": "asyncpg", "psycopg": "'psycopg[binary]'"}
# What an env.py written for an async engine contains (the `-t async` template does).
ASYNC_ENV = re.compile(r"async_engine_from_config|create_async_engine|AsyncEngine|run_sync")

Step = Callable[[Sequence[str], MigrationContext], Iterable[MigrationStep]]


@dataclass
class AlembicProject:
    """The project in the working directory, as ``alembic [-c INI]`` would see it."""

    ini: str | None = None
    url_env: str = "DATABASE_URL"
    script: ScriptDirectory = field(init=False)
    env_py: Path = field(init=False)

    def __post_init__(self) -> None:
        if self.ini and not Path(self.ini).is_file():
            raise ProofError(f"{self.ini}: no such file")
        if not (self.ini or Path("alembic.ini").is_file() or Path("pyproject.toml").is_file()):
            raise ProofError(
                "no alembic.ini or pyproject.toml here: run from the project's root, or pass -c"
            )
        try:
            self.script = ScriptDirectory.from_config(self.base_config())
        except CommandError as exc:
            raise ProofError(f"alembic cannot read this project: {exc}") from None
        self.env_py = Path(self.script.dir) / "env.py"
        if not self.env_py.is_file():
            raise ProofError(f"{self.env_py}: no env.py in the script location")

    def base_config(self) -> Config:
        """A fresh Config, found as the alembic command finds it; its own output is kept
        off stdout, which is the report's."""
        try:
            return Config(
                file_=self.ini or "alembic.ini", toml_file="pyproject.toml", stdout=io.StringIO()
            )
        except TypeError:  # alembic before 1.16 reads no pyproject.toml
            return Config(file_=self.ini or "alembic.ini", stdout=io.StringIO())

    @property
    def is_async(self) -> bool:
        """Whether env.py runs an async engine (so the URL needs an async driver)."""
        return bool(ASYNC_ENV.search(self.env_py.read_text(encoding="utf-8")))

    def configured_url(self) -> URL | None:
        """The URL the project itself names, if any: a hint at its driver."""
        try:
            raw = os.environ.get(self.url_env) or self.base_config().get_main_option(
                "sqlalchemy.url"
            )
            return make_url(raw) if raw else None
        except (CommandError, SQLAlchemyError, ValueError):  # no ini file; not a URL
            return None

    def driver(self, dialect: str) -> str:
        """The driver to address a scratch ``dialect`` database with, for this env.py."""
        choices = (ASYNC_DRIVERS if self.is_async else SYNC_DRIVERS)[dialect]
        hint = self.configured_url()
        if hint is not None and hint.get_backend_name() == dialect:
            choices = sorted(choices, key=lambda choice: choice[0] != hint.get_driver_name())
        for driver, module in choices:
            if importlib.util.find_spec(module) is not None:
                return driver
        kind = "an async" if self.is_async else "a sync"
        package = PIP_NAMES.get(choices[0][1], choices[0][1])
        raise ProofError(
            f"env.py needs {kind} {dialect} driver and none is installed: pip install {package}"
        )

    def config_for(self, url: URL) -> Config:
        """A Config, and the environment, pointing env.py at ``url``."""
        rendered = url.render_as_string(hide_password=False)
        os.environ[self.url_env] = rendered
        config = self.base_config()
        config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
        return config

    def run(self, config: Config, fn: Step, *, read_only: bool = False) -> None:
        """Run env.py once with ``fn`` choosing the steps, as the alembic commands do.

        Any connection env.py opens to another database than the scratch one is
        refused before a statement of env.py's runs on it.
        """
        scratch = make_url(config.get_main_option("sqlalchemy.url") or "")
        with (
            only_to(scratch),
            EnvironmentContext(config, self.script, fn=fn, dont_mutate=read_only),
        ):
            self.script.run_env()

    def heads_in(self, config: Config) -> list[str]:
        """The revisions the scratch database records, read the way env.py reads them
        (its own version table and schema)."""
        found: list[str] = []

        def read(heads: Sequence[str], context: MigrationContext) -> list[MigrationStep]:
            found.extend(heads)
            return []

        self.run(config, read, read_only=True)
        return sorted(found)

    def version_table(self, config: Config) -> str:
        """The table env.py keeps its revisions in (``version_table=``, alembic_version
        by default): bookkeeping, not one of the project's tables."""
        seen: list[str] = []

        def look(heads: Sequence[str], context: MigrationContext) -> list[MigrationStep]:
            seen.append(context.version_table)
            return []

        self.run(config, look, read_only=True)
        return seen[0] if seen else "alembic_version"

    def connected_database(self, config: Config) -> URL | None:
        """The database env.py connects to for ``config``: read-only, nothing runs."""
        seen: list[URL | None] = []

        def look(heads: Sequence[str], context: MigrationContext) -> list[MigrationStep]:
            bind = context.bind
            seen.append(bind.engine.url if bind is not None else None)
            return []

        self.run(config, look, read_only=True)
        return seen[0] if seen else None

    def check_target(self, config: Config, scratch: URL) -> None:
        """Stop unless env.py connects to ``scratch``: never migrate someone's real database."""
        probed_at = time.time()
        try:
            target = self.connected_database(config)
        except ElsewhereError as exc:
            target = exc.url
        except Exception as exc:  # env.py is the project's code: anything can come out
            raise ProofError(
                f"env.py failed before any migration ran: {type(exc).__name__}: "
                f"{first_line(exc)} (if it reads its URL from a variable other than "
                f"${self.url_env}, pass --url-env NAME)"
            ) from None
        if target is None or not same_database(target, scratch):
            remove_if_just_created(target, probed_at)
            where = shown(target) if target is not None else "no database (offline mode?)"
            raise ProofError(
                f"env.py connected to {where}, not the scratch database {shown(scratch)}: "
                f"it reads neither sqlalchemy.url nor ${self.url_env}. Pass --url-env with "
                "the variable it reads, or make it read one of those"
            )

    def revisions_after(self, start: str | None, to: str = "heads") -> list[Script]:
        """What `alembic upgrade TO` runs on a database at ``start`` (None: empty), each
        revision after the ones it depends on: every ancestor of ``to`` that ``start``
        does not already include, sibling branches too."""
        revision_map = self.script.revision_map
        try:
            wanted = list(revision_map.iterate_revisions(to, "base"))
            done = (
                {r.revision for r in revision_map.iterate_revisions(start, "base")}  # type: ignore[union-attr]
                if start
                else set()
            )
        except CommandError as exc:
            raise ProofError(str(exc)) from None
        except Exception as exc:  # alembic's RevisionError family: an unknown revision
            raise ProofError(
                f"cannot walk the revisions from {start} to {to}: {first_line(exc)}"
            ) from None
        return [r for r in reversed(wanted) if r.revision not in done]  # type: ignore[union-attr]

    def upgrade_step(self, revision: Script) -> Step:
        """Exactly one revision's upgrade, whatever branches and merges surround it."""
        return lambda heads, context: [
            MigrationStep.upgrade_from_script(self.script.revision_map, revision)
        ]

    def upgrade_steps(self, revisions: list[Script]) -> Step:
        """These revisions' upgrades, in this order, in one run."""
        return lambda heads, context: [
            MigrationStep.upgrade_from_script(self.script.revision_map, revision)
            for revision in revisions
        ]

    def downgrade_step(self, revision: Script) -> Step:
        """Exactly one revision's downgrade."""
        return lambda heads, context: [
            MigrationStep.downgrade_from_script(self.script.revision_map, revision)
        ]

    def upgrade_to(self, target: str) -> Step:
        """Everything up to ``target``, as `alembic upgrade TARGET` does."""
        return lambda heads, context: self.script._upgrade_revs(target, heads)


class ElsewhereError(Exception):
    """env.py opened a connection to another database than the scratch one."""

    def __init__(self, url: URL) -> None:
        super().__init__(f"env.py connected to {shown(url)}, not the scratch database")
        self.url = url


@contextmanager
def only_to(scratch: URL) -> Iterator[None]:
    """Refuse every new connection that is not to ``scratch``, before it runs any SQL."""

    def check(connection: Any) -> None:
        url = connection.engine.url
        if not same_database(url, scratch):
            # Give it back first: an abandoned connection is collected some time later,
            # and SQLAlchemy then logs about it on stderr, which must hold one line.
            connection.close()
            raise ElsewhereError(url)

    event.listen(Engine, "engine_connect", check)
    try:
        yield
    finally:
        event.remove(Engine, "engine_connect", check)


def remove_if_just_created(url: URL | None, since: float) -> None:
    """Connecting to SQLite creates the file: remove one the probe itself just created."""
    if url is None or url.get_backend_name() != "sqlite" or not url.database:
        return
    path = Path(url.database)
    if path.is_file() and path.stat().st_size == 0 and path.stat().st_mtime >= since - 1:
        path.unlink()


def same_database(a: URL, b: URL) -> bool:
    """Whether two URLs name the same database, whatever driver or password they carry."""
    if a.get_backend_name() != b.get_backend_name():
        return False
    if a.get_backend_name() == "sqlite":
        return bool(a.database and b.database) and (
            Path(a.database or "").resolve() == Path(b.database or "").resolve()
        )

    def where(url: URL) -> tuple[object, ...]:
        return (url.database, url.host, url.port, url.query.get("host"))

    return where(a) == where(b)


def describe(revision: Script) -> str:
    """A revision's first docstring line, as `alembic history` shows it."""
    return (revision.doc or "").strip().splitlines()[0] if revision.doc else ""
