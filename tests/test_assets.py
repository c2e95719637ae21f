"""assets/: the drop-in env.py (async) and env_sync.py (sync), in projects a user makes.

This project's own alembic/env.py and alembic.ini are the assets, byte for
byte, so what SKILL.md excerpts is what users copy. Each env.py asset is
dropped into a fresh `alembic init` project with its own models and
revisions, with only its EDIT line to change (models.Base is already right
there), then proven: up, check, down and up on SQLite and PostgreSQL by
verify_migrations.py, and eight replicas racing `alembic upgrade head`.
"""

from __future__ import annotations

import ast
import asyncio
import shutil
import subprocess
from pathlib import Path

import pytest
from project import PROJECT_DIR, alembic, fetch, python_executable
from replicas import REPLICAS, WAITING_LINE, race, upgrades_run
from sqlalchemy.engine import URL
from stock import init_project

ASSETS = PROJECT_DIR / "assets"
# The parts of env.py that run the engine; everything else the two share.
ENGINE_HANDLING = {
    "DRIVERS",
    "DRIVER_EXAMPLES",
    "POSTGRESQL",
    "with_driver",
    "run_async_migrations",
    "run_with_own_engine",
    "running_event_loop",
    "connect_and_migrate",
    "migrate_with_own_engine",
    "run_migrations_online",
}
ASSET_TEMPLATES = [("env.py", "async", None), ("env_sync.py", "generic", "psycopg")]
# Where the driver does not matter: the asset and the template it goes into.
ASSETS_IN_TEMPLATES = [(asset, template) for asset, template, _ in ASSET_TEMPLATES]


def test_the_project_runs_on_the_assets() -> None:
    assert (PROJECT_DIR / "alembic" / "env.py").read_bytes() == (ASSETS / "env.py").read_bytes()
    assert (PROJECT_DIR / "alembic.ini").read_bytes() == (ASSETS / "alembic.ini").read_bytes()


def test_quick_start_models_are_the_project_models_before_the_role_column() -> None:
    """SKILL.md's Quick start copies assets/models.py, then models.py adds User.role."""
    before = (ASSETS / "models.py").read_text().splitlines()
    after = (PROJECT_DIR / "models.py").read_text().splitlines()
    added = [line for line in after if line not in before]
    assert [line.strip() for line in added] == [
        "# server_default, not default=: existing rows and raw INSERTs get it too.",
        'role: Mapped[str] = mapped_column(String(20), server_default="member")',
    ]
    assert [line for line in after if line not in added] == before


def test_quick_start_data_migration_is_the_project_revision() -> None:
    """The copied data migration is the project's, renumbered to follow revision 0001."""
    (project_file,) = (PROJECT_DIR / "alembic" / "versions").glob("*_backfill_user_roles.py")
    renumbered = (
        project_file.read_text()
        .replace('revision: str = "3525a8febceb"', 'revision: str = "0002"')
        .replace('None = "caf7e6db4e81"', 'None = "0001"')
        .replace(
            "Revision ID: 3525a8febceb\nRevises: caf7e6db4e81", "Revision ID: 0002\nRevises: 0001"
        )
    )
    assert (ASSETS / "0002_backfill_user_roles.py").read_text() == renumbered
    assert renumbered != project_file.read_text()


def top_level(path: Path) -> dict[str, str]:
    """Each top-level function and constant of a module, by name, as an AST dump."""
    found = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found[node.name] = ast.dump(node)
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            found[node.targets[0].id] = ast.dump(node)
    return found


def statements(path: Path) -> list[str]:
    """The module's other top-level statements, in order: logging setup, the dispatch at
    the end. Its docstring and imports differ with the engine."""
    return [
        ast.dump(node)
        for node in ast.parse(path.read_text()).body[1:]
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Import)
        and not isinstance(node, ast.ImportFrom)
        and not (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name))
    ]


def test_the_sync_env_py_shares_everything_but_the_engine() -> None:
    assert statements(ASSETS / "env.py") == statements(ASSETS / "env_sync.py")
    async_parts, sync_parts = top_level(ASSETS / "env.py"), top_level(ASSETS / "env_sync.py")
    shared = (set(async_parts) | set(sync_parts)) - ENGINE_HANDLING
    differing = sorted(name for name in shared if async_parts.get(name) != sync_parts.get(name))
    assert differing == []
    assert {"run_migrations_online", "with_driver"} <= set(sync_parts) & set(async_parts)


@pytest.mark.parametrize("asset", ["env.py", "env_sync.py"])
def test_one_line_to_edit(asset: str) -> None:
    lines = [line for line in (ASSETS / asset).read_text().splitlines() if "EDIT:" in line]
    assert lines == [
        "from models import Base  # EDIT: import your models' declarative Base "
        "(or edit the next line)"
    ]


def project_with(tmp_path: Path, asset: str, template: str) -> Path:
    """A stock project (models.py with Base) whose env.py is the asset, unedited."""
    root = init_project(tmp_path, template)
    shutil.copy(ASSETS / asset, root / "migrations" / "env.py")
    return root


@pytest.mark.parametrize(("asset", "template"), ASSETS_IN_TEMPLATES)
def test_asset_proves_out_in_a_stock_project(
    asset: str, template: str, tmp_path: Path, postgres_server_url: URL
) -> None:
    root = project_with(tmp_path, asset, template)
    server = postgres_server_url.render_as_string(hide_password=False)
    verified = subprocess.run(
        [python_executable(), str(PROJECT_DIR / "scripts" / "verify_migrations.py"),
         "--postgres-url", server],
        cwd=root, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.splitlines()[-1].startswith("OK on sqlite and postgresql")


@pytest.mark.parametrize(("asset", "template", "driver"), ASSET_TEMPLATES)
def test_asset_serializes_eight_replicas(
    asset: str, template: str, driver: str | None, tmp_path: Path, postgresql_url: URL
) -> None:
    root = project_with(tmp_path, asset, template)

    results = asyncio.run(race(root, postgresql_url, driver=driver))

    logs = "\n".join(log for _, log in results)
    assert [rc for rc, _ in results] == [0] * REPLICAS, logs
    assert [upgrades_run(results, revision) for revision in ("a1", "a2")] == [1, 1], logs
    assert fetch(postgresql_url, "SELECT version_num FROM alembic_version") == [("a2",)]
    assert sum(WAITING_LINE in log for _, log in results) >= REPLICAS - 1, logs


@pytest.mark.parametrize(("asset", "template", "driver"), ASSET_TEMPLATES)
def test_asset_never_migrates_the_wrong_database(
    asset: str, template: str, driver: str | None, tmp_path: Path
) -> None:
    """The stock env.py migrates alembic.ini's URL whatever DATABASE_URL says; not this one."""
    root = project_with(tmp_path, asset, template)
    ini = root / "alembic.ini"
    ini.write_text(ini.read_text().replace(
        "driver://user:pass@localhost/dbname", "sqlite:///local.db"
    ))  # fmt: skip
    unreachable = f"postgresql+{driver or 'asyncpg'}://app:secret@127.0.0.1:1/app"

    result = alembic(root, "alembic upgrade head", {"DATABASE_URL": unreachable})

    assert result.returncode != 0
    assert "FAILED: cannot connect to " in result.stdout and "secret" not in result.stdout
    assert not (root / "local.db").exists()


@pytest.mark.parametrize(("asset", "template"), ASSETS_IN_TEMPLATES)
def test_asset_refuses_alembic_inits_placeholder_url(
    asset: str, template: str, tmp_path: Path
) -> None:
    root = project_with(tmp_path, asset, template)
    result = alembic(root, "alembic upgrade head")
    assert result.returncode != 0
    assert "FAILED: no database URL: set DATABASE_URL" in result.stdout
