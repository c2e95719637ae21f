"""Run this project's migrations from application code or tests.

``alembic upgrade head`` is the deploy-time command. This module is for code
that already runs an event loop (an app's startup hook, an async test), where
env.py's own ``asyncio.run()`` would fail: the caller's connection is handed to
env.py through ``config.attributes["connection"]``.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
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
