"""Run this project's migrations from application code, and tell whether it may serve.

``alembic upgrade head`` is the deploy-time command. This module is for code
that already runs an event loop (an app's startup hook, an async test), where
env.py's own ``asyncio.run()`` would fail: the caller's connection is handed to
env.py through ``config.attributes["connection"]``.

It also holds the readiness check, ``python migrate.py ready``: not ready only
while the database is behind this code. A database at a revision this code
does not know was migrated by a newer release, which old pods must survive
during a rolling deploy; ``alembic current --check-heads`` fails for it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import ResolutionError
from alembic.util import CommandError
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

ALEMBIC_INI = Path(__file__).resolve().parent / "alembic.ini"


def alembic_config() -> Config:
    """This project's alembic configuration, wherever the process was started."""
    return Config(ALEMBIC_INI)


def run_upgrade(connection: Connection, config: Config, revision: str) -> None:
    """Upgrade on a sync connection; called through ``AsyncConnection.run_sync``."""
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def upgrade_database(engine: AsyncEngine, revision: str = "head") -> None:
    """Upgrade the database behind ``engine`` from inside a running event loop."""
    config = alembic_config()
    config.attributes["configure_logger"] = False  # keep the application's logging
    # connect(), not begin(): alembic commits each revision itself.
    async with engine.connect() as connection:
        await connection.run_sync(run_upgrade, config, revision)


@dataclass(frozen=True)
class SchemaStatus:
    """The database's revisions against this code's heads."""

    database: tuple[str, ...]
    heads: tuple[str, ...]
    unknown: tuple[str, ...]  # revisions of a newer release: not in this code

    @property
    def ready(self) -> bool:
        """False only while the database is behind: a known revision short of head."""
        return bool(self.unknown) or set(self.database) == set(self.heads)

    def describe(self) -> str:
        heads = ", ".join(self.heads)
        if self.unknown:
            return (
                f"ready: the database is at {', '.join(self.unknown)}, which this code does "
                "not know (a newer release migrated it)"
            )
        if self.ready:
            return f"ready: the database is at this code's head {heads}"
        if not self.database:
            return f"not ready: the database has no revision yet; this code's head is {heads}"
        return (
            f"not ready: the database is at {', '.join(self.database)}, "
            f"behind this code's head {heads}"
        )


def schema_status(config: Config | None = None) -> SchemaStatus:
    """Read the database's revisions through env.py, as `alembic current` does.

    ``dont_mutate``: env.py neither waits for the migration lock nor changes
    anything, so a readiness probe answers while a migration runs.
    """
    config = config or alembic_config()
    script = ScriptDirectory.from_config(config)
    found: list[tuple[str, ...]] = []

    def read_revisions(heads: Sequence[str], context: MigrationContext) -> list[object]:
        found.append(tuple(heads))
        return []

    with EnvironmentContext(config, script, fn=read_revisions, dont_mutate=True):
        script.run_env()
    database = found[0] if found else ()
    return SchemaStatus(
        database=database,
        heads=tuple(script.get_heads()),
        unknown=tuple(rev for rev in database if not known_revision(script, rev)),
    )


def known_revision(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.revision_map.get_revision(revision) is not None
    except ResolutionError:
        return False


def status_on(connection: Connection, config: Config) -> SchemaStatus:
    """schema_status() on a sync connection; called through ``AsyncConnection.run_sync``."""
    config.attributes["connection"] = connection
    return schema_status(config)


async def database_is_ready(engine: AsyncEngine) -> bool:
    """For an application's readiness endpoint: False while the database is behind."""
    config = alembic_config()
    config.attributes["configure_logger"] = False
    async with engine.connect() as connection:
        status = await connection.run_sync(status_on, config)
    return status.ready


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python migrate.py",
        description="Migration checks for deploys. The database comes from DATABASE_URL.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "ready",
        help="exit 0 unless the database is behind this code (exit 1); 2 on errors. "
        "A readiness probe: a database a newer release migrated counts as ready.",
    )
    parser.parse_args(argv)
    config = alembic_config()
    config.attributes["configure_logger"] = False  # one line of output, nothing else
    try:
        status = schema_status(config)
    except CommandError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 2
    print(status.describe())
    return 0 if status.ready else 1


if __name__ == "__main__":
    sys.exit(main())
