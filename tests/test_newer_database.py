"""When the database is ahead of the code: readiness, restarts and rollbacks.

During a rolling deploy the new release migrates while old pods still serve,
and an old pod may restart. The database then holds a revision the old code
does not know. Readiness must stay green for it, and a startup migration must
let it start instead of crash-looping on "Can't locate revision".
"""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from project import alembic, alembic_environment, execute, fetch, revision_ids
from sqlalchemy import pool
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine

import migrate

# A revision of a newer release: its file is not in this code.
NEWER_REVISION = "f00dfacecafe"


def stamp_newer_release(config: Config, url: URL) -> None:
    """What the next release's first migration leaves: a revision this code lacks."""
    command.upgrade(config, "head")
    execute(url, f"UPDATE alembic_version SET version_num = '{NEWER_REVISION}'")


def versions(url: URL) -> list[tuple[str, ...]]:
    return fetch(url, "SELECT version_num FROM alembic_version")


def test_readiness_follows_the_database(alembic_cfg: Config, database_url: URL) -> None:
    """Not ready only while the database is behind this code's head."""
    head = revision_ids()[-1]
    status = migrate.schema_status(alembic_cfg)
    assert (status.ready, status.describe()) == (
        False,
        f"not ready: the database has no revision yet; this code's head is {head}",
    )

    command.upgrade(alembic_cfg, revision_ids()[-2])
    status = migrate.schema_status(alembic_cfg)
    assert (status.ready, status.describe()) == (
        False,
        f"not ready: the database is at {revision_ids()[-2]}, behind this code's head {head}",
    )

    command.upgrade(alembic_cfg, "head")
    status = migrate.schema_status(alembic_cfg)
    assert (status.ready, status.describe()) == (
        True,
        f"ready: the database is at this code's head {head}",
    )

    execute(database_url, f"UPDATE alembic_version SET version_num = '{NEWER_REVISION}'")
    status = migrate.schema_status(alembic_cfg)
    assert (status.ready, status.describe()) == (
        True,
        f"ready: the database is at {NEWER_REVISION}, which this code does not know "
        "(a newer release migrated it)",
    )


def ready_command(project: Path, url: URL) -> subprocess.CompletedProcess[str]:
    env = alembic_environment(DATABASE_URL=url.render_as_string(hide_password=False))
    return subprocess.run(
        [sys.executable, "migrate.py", "ready"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )


def test_readiness_command_exit_codes(project_copy: Path, postgresql_url: URL) -> None:
    """`python migrate.py ready`: 1 while behind, 0 when a newer release migrated."""
    behind = ready_command(project_copy, postgresql_url)
    assert (behind.returncode, behind.stderr) == (1, ""), behind.stderr
    assert behind.stdout.startswith("not ready: the database has no revision yet")

    config = Config(project_copy / "alembic.ini")
    config.attributes["configure_logger"] = False
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", postgresql_url.render_as_string(hide_password=False))
        stamp_newer_release(config, postgresql_url)
    newer = ready_command(project_copy, postgresql_url)
    assert (newer.returncode, newer.stderr) == (0, ""), newer.stderr
    assert newer.stdout == (
        f"ready: the database is at {NEWER_REVISION}, which this code does not know "
        "(a newer release migrated it)\n"
    )


def test_readiness_command_reports_a_bad_url_on_one_line(project_copy: Path) -> None:
    result = subprocess.run(
        [sys.executable, "migrate.py", "ready"],
        cwd=project_copy,
        env=alembic_environment(DATABASE_URL="postgresql+asyncpg://app:hunter2@/db?port=x"),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("FAILED: ") and result.stderr.count("\n") == 1
    assert "hunter2" not in result.stderr


def test_startup_migration_on_a_newer_database_warns_and_starts(
    project_copy: Path, database_url: URL
) -> None:
    """An old pod restarting runs `alembic upgrade head`: one warning line, exit 0."""
    env = {"DATABASE_URL": database_url.render_as_string(hide_password=False)}
    assert alembic(project_copy, "alembic upgrade head", env).returncode == 0
    execute(database_url, f"UPDATE alembic_version SET version_num = '{NEWER_REVISION}'")

    result = alembic(project_copy, "alembic upgrade head", env)

    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("WARNI")]
    assert warnings == [
        f"WARNI [alembic.env] the database is at {NEWER_REVISION}, which this code does not "
        "know (a newer release migrated it); not migrating. Set "
        "MIGRATION_UNKNOWN_REVISION=fail to make this an error."
    ], result.stderr
    assert versions(database_url) == [(NEWER_REVISION,)]


def test_unknown_revision_can_be_made_a_failure(project_copy: Path, postgresql_url: URL) -> None:
    env = {"DATABASE_URL": postgresql_url.render_as_string(hide_password=False)}
    assert alembic(project_copy, "alembic upgrade head", env).returncode == 0
    execute(postgresql_url, f"UPDATE alembic_version SET version_num = '{NEWER_REVISION}'")

    result = alembic(project_copy, "alembic -x unknown_revision=fail upgrade head", env)

    assert result.returncode != 0
    assert (
        f"FAILED: the database is at {NEWER_REVISION}, which this code does not know "
        "(a newer release migrated it)" in result.stdout
    ), result.stdout
    assert versions(postgresql_url) == [(NEWER_REVISION,)]


async def test_application_startup_on_a_newer_database(
    postgresql_url: URL, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """migrate.upgrade_database() in an app's startup hook lets the app start."""
    monkeypatch.setenv("DATABASE_URL", postgresql_url.render_as_string(hide_password=False))
    engine = create_async_engine(postgresql_url, poolclass=pool.NullPool)
    try:
        await migrate.upgrade_database(engine)
        async with engine.connect() as connection:
            await connection.exec_driver_sql(
                f"UPDATE alembic_version SET version_num = '{NEWER_REVISION}'"
            )
            await connection.commit()
        caplog.set_level(logging.WARNING, logger="alembic.env")

        await migrate.upgrade_database(engine)

        assert [r.getMessage() for r in caplog.records if r.name == "alembic.env"] == [
            f"the database is at {NEWER_REVISION}, which this code does not know (a newer "
            "release migrated it); not migrating. Set MIGRATION_UNKNOWN_REVISION=fail to make "
            "this an error."
        ]
        assert await migrate.database_is_ready(engine)
    finally:
        await engine.dispose()


def test_downgrades_still_refuse_an_unknown_revision(
    alembic_cfg: Config, database_url: URL
) -> None:
    """Only upgrades step aside: a downgrade needs the newer release's scripts."""
    stamp_newer_release(alembic_cfg, database_url)
    with pytest.raises(Exception, match=f"Can't locate revision identified by '{NEWER_REVISION}'"):
        command.downgrade(alembic_cfg, "-1")
    assert versions(database_url) == [(NEWER_REVISION,)]


def test_a_misspelt_setting_fails_before_anything_runs(project_copy: Path, sqlite_url: URL) -> None:
    env = {
        "DATABASE_URL": sqlite_url.render_as_string(hide_password=False),
        "MIGRATION_UNKNOWN_REVISION": "fial",
    }
    result = alembic(project_copy, "alembic upgrade head", env)
    assert result.returncode != 0
    assert "FAILED: unknown_revision must be warn or fail, not 'fial'" in result.stdout
    assert not Path(sqlite_url.database or "").exists()
