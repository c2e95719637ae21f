"""The measured scenarios: backfills, index builds, the scale curve, a full run.

The backfill code is the project's own data migration (PROMOTE_ALL, its
offline single UPDATE, and backfill_admin_roles, its batched form), loaded
from alembic/versions, so the numbers are for the code the skill teaches.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.script import ScriptDirectory
from database import PROJECT_DIR
from sqlalchemy import Connection, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine
from writer import Write, Writer

SETTLE_S = 0.3  # writer runs alone before and after the measured step
QUICK_SETTLE_S = 0.05  # --quick only checks that everything runs


def backfill_revision() -> Any:
    """The project's data migration module (the revision with backfill_admin_roles)."""
    script = ScriptDirectory.from_config(Config(PROJECT_DIR / "alembic.ini"))
    for revision in script.walk_revisions():
        if hasattr(revision.module, "backfill_admin_roles"):
            return revision.module
    raise LookupError("no revision defines backfill_admin_roles")


@dataclass
class Measured:
    seconds: float
    writes: list[Write]  # writes that overlapped the measured step
    all_writes: list[Write]
    window: tuple[float, float]


async def with_writer(
    url: URL, ids: list[str], step: Callable[[], Awaitable[None]], settle_s: float = SETTLE_S
) -> Measured:
    """Run ``step`` while the writer updates random users; keep the overlapping writes."""
    with Writer(url, ids) as writer:
        await asyncio.sleep(settle_s)
        begin = writer.since_start()
        started = time.perf_counter()
        await step()
        seconds = time.perf_counter() - started
        end = writer.since_start()
        await asyncio.sleep(settle_s)
    during = [
        w
        for w in writer.writes
        if w.started_s <= end and w.started_s + w.latency_ms / 1000 >= begin
    ]
    return Measured(seconds, during, writer.writes, (begin, end))


async def single_update(engine: AsyncEngine) -> None:
    """The naive backfill: one UPDATE over the whole table, one commit."""
    module = backfill_revision()
    pattern = module.admin_email_pattern(module.ADMIN_EMAIL_DOMAIN)
    async with engine.connect() as connection:
        await connection.execute(module.PROMOTE_ALL, {"email_pattern": pattern})
        await connection.commit()


async def batched_update(engine: AsyncEngine, batch_size: int) -> int:
    """The skill's backfill: primary-key ranges, each batch committed on its own."""
    backfill = backfill_revision().backfill_admin_roles

    def run(connection: Connection) -> int:
        return int(backfill(connection, batch_size=batch_size))

    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        return await autocommit.run_sync(run)


async def create_index(engine: AsyncEngine, concurrently: bool) -> None:
    async with engine.connect() as connection:
        if concurrently:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(
                text("CREATE INDEX CONCURRENTLY ix_users_name ON users (name)")
            )
        else:
            await connection.execute(text("CREATE INDEX ix_users_name ON users (name)"))
            await connection.commit()


def alembic_seconds(url: URL, *command: str) -> float:
    """Wall time of one `alembic ...` CLI run against ``url``."""
    env = dict(os.environ, DATABASE_URL=url.render_as_string(hide_password=False))
    alembic = str(Path(sys.executable).with_name("alembic"))
    started = time.perf_counter()
    subprocess.run([alembic, *command], cwd=PROJECT_DIR, env=env, check=True, capture_output=True)
    return time.perf_counter() - started
