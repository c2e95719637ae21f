"""A project copy with recipe revisions from examples/ installed, aimed at one database.

Shared by the recipe tests (tests/test_recipes.py and tests/test_recipe_*.py) and by
the eval grader (tests/test_evals.py).
"""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from project import PROJECT_DIR, copy_project, execute, fetch, install_revisions, with_connection
from sqlalchemy import Connection, inspect, pool
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

RECIPES_MD = PROJECT_DIR / "references" / "recipes.md"
# Small batches, so a handful of seeded rows runs through several of them.
TEST_BATCH_SIZE = 2


@dataclass
class Recipe:
    """A project copy with recipe revisions installed, aimed at one database."""

    project: Path
    url: URL
    base: str  # the project's own head, under the recipe
    config: Config

    @property
    def dialect(self) -> str:
        return self.url.get_backend_name()

    @property
    def versions(self) -> Path:
        return self.project / "alembic" / "versions"

    def install(self, *files: str | Path, batch_size: int | None = TEST_BATCH_SIZE) -> None:
        """Copy revision files in; see project.install_revisions."""
        install_revisions(self.project, self.base, *files, batch_size=batch_size)

    def heads(self) -> list[str]:
        return sorted(ScriptDirectory.from_config(self.config).get_heads())

    def upgrade(self, target: str = "head") -> None:
        command.upgrade(self.config, target)

    def downgrade(self, target: str | None = None) -> None:
        command.downgrade(self.config, target or self.base)

    def current(self) -> str | None:
        rows = fetch(self.url, "SELECT version_num FROM alembic_version")
        return rows[0][0] if rows else None

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return fetch(self.url, sql)

    def run(self, sql: str, rows: Sequence[dict[str, Any]] | None = None) -> None:
        execute(self.url, sql, rows)

    def inspect(self, fn: Callable[[Any], Any]) -> Any:
        """Call ``fn`` with a SQLAlchemy Inspector on the database."""
        return with_connection(self.url, lambda conn: fn(inspect(conn)))

    def with_server_messages(self, direction: str, revision: str) -> list[str]:
        """``upgrade``/``downgrade`` to ``revision`` on a connection that receives
        PostgreSQL's NOTICE and DEBUG1 lines (which say whether an ALTER scanned); those lines.
        """
        migrate = {"upgrade": command.upgrade, "downgrade": command.downgrade}[direction]

        def on(connection: Connection) -> None:
            self.config.attributes["connection"] = connection
            try:
                migrate(self.config, revision)
            finally:
                del self.config.attributes["connection"]

        async def run() -> list[str]:
            engine = create_async_engine(self.url, poolclass=pool.NullPool)
            messages: list[str] = []
            try:
                async with engine.connect() as connection:
                    raw = await connection.get_raw_connection()
                    raw.driver_connection.add_log_listener(  # type: ignore[union-attr]
                        lambda _conn, message: messages.append(message.message)
                    )
                    await connection.exec_driver_sql("SET client_min_messages = debug1")
                    await connection.commit()
                    await connection.run_sync(on)
                    await asyncio.sleep(0.05)  # let the last notices arrive
            finally:
                await engine.dispose()
            return messages

        return asyncio.run(run())

    def columns(self, table: str) -> dict[str, dict[str, Any]]:
        return self.inspect(lambda i: {c["name"]: c for c in i.get_columns(table)})


def prepare(
    tmp_path: Path, database_url: URL, monkeypatch: pytest.MonkeyPatch, at_head: bool = False
) -> Recipe:
    """A project copy at its own head on ``database_url``, ready for recipe files.

    ``at_head``: the database is a copy of one already migrated to the head.
    """
    monkeypatch.setenv("DATABASE_URL", database_url.render_as_string(hide_password=False))
    project = copy_project(tmp_path / "project")
    config = Config(project / "alembic.ini", stdout=io.StringIO())
    config.attributes["configure_logger"] = False
    base = ScriptDirectory.from_config(config).get_current_head()
    assert base is not None
    ready = Recipe(project=project, url=database_url, base=base, config=config)
    if not at_head:
        ready.upgrade(base)
    return ready


def user_id(n: int) -> str:
    """A string primary key that sorts by ``n``."""
    return str(uuid.UUID(int=n))


def seed_users(recipe: Recipe, names: Sequence[str | None]) -> list[str]:
    ids = [user_id(n) for n in range(1, len(names) + 1)]
    recipe.run(
        "INSERT INTO users (id, email, name) VALUES (:id, :email, :name)",
        [
            {"id": i, "email": f"user{n}@example.com", "name": name}
            for n, (i, name) in enumerate(zip(ids, names, strict=True), start=1)
        ],
    )
    return ids


def seed_projects(recipe: Recipe, names: Sequence[str], owner: str | None = None) -> list[str]:
    ids = [user_id(1000 + n) for n in range(1, len(names) + 1)]
    recipe.run(
        "INSERT INTO projects (id, name, owner_id) VALUES (:id, :name, :owner_id)",
        [{"id": i, "name": name, "owner_id": owner} for i, name in zip(ids, names, strict=True)],
    )
    return ids


def fails(*needles: str) -> Any:
    """pytest.raises for a statement the database refuses.

    env.py may wrap a driver error in a CommandError; either way the driver's
    message is in the text.
    """
    return pytest.raises((DBAPIError, CommandError), match="|".join(needles))


NAMES = ["Ada King Lovelace", "Grace Hopper", "Plato", None, "", " Leading", "Two  Spaces"]
