"""The checker's unbatched-dml verdict, held against what PostgreSQL does.

Row locks last until commit, so a loop of small UPDATEs in one transaction
blocks writers like one big UPDATE does. Each looping fixture of the rule runs
as a real revision through this project's env.py; when its second batch
starts, another session tries to write a row the first batch touched. The
checker must report exactly the fixtures where that writer is blocked.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from postgres import execute_autocommit
from project import PROJECT_DIR, copy_project
from sqlalchemy import event, pool, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

FIXTURES = PROJECT_DIR / "tests" / "check_fixtures" / "unbatched-dml"
CHECKER = PROJECT_DIR / "scripts" / "check_migrations.py"
LOOPING = sorted(
    path.name
    for path in FIXTURES.glob("*.py")
    if "for " in path.read_text() or "while " in path.read_text()
)
# The tables the fixtures change, each with more rows than one batch.
TABLES = [
    "CREATE TABLE users (id integer PRIMARY KEY, role text, email text)",
    "INSERT INTO users (id) SELECT generate_series(1, 2500)",
    "CREATE TABLE sessions (id integer PRIMARY KEY, expires_at timestamptz)",
    "INSERT INTO sessions SELECT g, now() - interval '1 day' FROM generate_series(1, 2500) g",
    "CREATE TABLE countries (code text PRIMARY KEY, name text, name_upper text)",
    "INSERT INTO countries SELECT 'c' || lpad(g::text, 5, '0'), 'n' || g "
    "FROM generate_series(1, 1200) g",
]
# A row each table's first batch touches, and a write to it that takes its row lock.
WRITE_TO_FIRST_BATCH = {
    "users": "UPDATE users SET email = 'probe' WHERE id = 1",
    "sessions": "UPDATE sessions SET expires_at = expires_at WHERE id = 1",
    "countries": "UPDATE countries SET name = name WHERE code = 'c00001'",
}


def test_every_looping_fixture_is_run() -> None:
    assert len(LOOPING) >= 6, LOOPING
    assert {name.split("_")[0] for name in LOOPING} == {"good", "bad"}


def checker_flags(fixture: Path) -> bool:
    result = subprocess.run(
        [sys.executable, str(CHECKER), "--format", "json", str(fixture)],
        capture_output=True,
        text=True,
    )
    assert result.returncode in (0, 1), result.stderr
    return any(finding["rule"] == "unbatched-dml" for finding in json.loads(result.stdout))


async def writer_blocked(url: URL, statement: str) -> bool:
    """Whether ``statement`` waits on a row lock for longer than 300 ms."""
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SET lock_timeout = '300ms'"))
            try:
                await connection.execute(text(statement))
            except DBAPIError as exc:
                assert "lock timeout" in str(exc), exc
                return True
            await connection.commit()
            return False
    finally:
        await engine.dispose()


def run_with_probe(project: Path, url: URL, table: str) -> bool | None:
    """Upgrade; when the second batch on ``table`` starts, probe a first-batch row.

    Returns whether the probe was blocked, or None if there was no second batch.
    """
    engine = create_async_engine(url, poolclass=pool.NullPool)
    batches = 0
    blocked: list[bool] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def probe(conn, cursor, statement, parameters, context, executemany) -> None:
        nonlocal batches
        words = statement.split()
        if words[0].upper() in {"UPDATE", "DELETE"} and table in words[:3]:
            batches += 1
            if batches == 2:
                with ThreadPoolExecutor(1) as other_session:
                    probing = other_session.submit(
                        asyncio.run, writer_blocked(url, WRITE_TO_FIRST_BATCH[table])
                    )
                    blocked.append(probing.result(timeout=30))

    config = Config(project / "alembic.ini")
    config.attributes["configure_logger"] = False
    config.attributes["connection"] = engine
    try:
        command.upgrade(config, "head")
    finally:
        asyncio.run(engine.dispose())
    return blocked[0] if blocked else None


@pytest.mark.parametrize("fixture", LOOPING)
def test_checker_agrees_with_postgresql(fixture: str, tmp_path: Path, postgresql_url: URL) -> None:
    source = FIXTURES / fixture
    project = copy_project(tmp_path / "project")
    versions = project / "alembic" / "versions"
    shutil.rmtree(versions)
    versions.mkdir()
    # The only revision, on the tables below; alembic_version holds 32 characters.
    revision = re.sub(r'^revision = ".*"$', 'revision = "fixture"', source.read_text(), flags=re.M)
    (versions / fixture).write_text(revision)
    asyncio.run(execute_autocommit(postgresql_url, *TABLES))
    table = next(name for name in WRITE_TO_FIRST_BATCH if f" {name} " in source.read_text())

    blocked = run_with_probe(project, postgresql_url, table)

    assert blocked is not None, "the fixture ran fewer than two batches"
    flagged = checker_flags(source)
    verdict = "reported" if flagged else "passed"
    outcome = "blocked" if blocked else "went through"
    assert flagged == blocked, f"the checker {verdict} it, but a writer to batch 1 {outcome}"
