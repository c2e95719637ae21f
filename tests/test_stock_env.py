"""SKILL.md's "Is the user's env.py this one?": the grep, and what a stock env.py silently does.

Each claim of the section's table is run on a stock `alembic init -t async`
project on the suite's PostgreSQL server, next to the same run with
assets/env.py dropped in, so a claim that stopped being true fails here.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from project import (
    PROJECT_DIR,
    alembic,
    alembic_environment,
    alembic_executable,
    fetch,
    table_locked,
    url_text,
)
from sqlalchemy.engine import URL
from stock import init_project

SECTION = re.compile(r"^## Is the user's env\.py this one\?\n(.*?)^## ", re.S | re.M)
PLACEHOLDER = "driver://user:pass@localhost/dbname"
PIECES = [
    "DATABASE_URL",
    'attributes.get("connection")',
    "lock_timeout",
    "pg_try_advisory_lock",
    "render_as_batch",
    "transaction_per_migration",
]
FAILING_REVISION = """
import sqlalchemy as sa
from alembic import op

revision = "a3"
down_revision = "a2"


def upgrade():
    op.execute(sa.text("SELECT 1 / 0"))


def downgrade():
    pass
"""


def grep_line() -> str:
    """The one shell line of the section."""
    match = SECTION.search((PROJECT_DIR / "SKILL.md").read_text())
    assert match, "SKILL.md lost its section on the user's env.py"
    (line,) = re.findall(r"^```bash\n(.*?)\n```", match[1], re.S | re.M)
    return line


def stock_project(tmp_path: Path, ini_url: str) -> Path:
    """`alembic init -t async alembic` with models and revisions; ``ini_url`` as written."""
    root = init_project(tmp_path, "async")
    (root / "migrations").rename(root / "alembic")
    ini = root / "alembic.ini"
    ini.write_text(ini.read_text().replace("%(here)s/migrations", "%(here)s/alembic").replace(
        PLACEHOLDER, ini_url
    ))  # fmt: skip
    return root


def with_asset(root: Path) -> Path:
    shutil.copy(PROJECT_DIR / "assets" / "env.py", root / "alembic" / "env.py")
    return root


def test_the_grep_tells_a_stock_env_py_from_the_asset(tmp_path: Path) -> None:
    root = stock_project(tmp_path, "sqlite+aiosqlite:///local.db")

    def found() -> list[str]:
        result = subprocess.run(
            ["bash", "-c", grep_line()], cwd=root, capture_output=True, text=True
        )
        assert result.returncode == 0 and result.stderr == "", result.stderr
        return result.stdout.splitlines()

    assert found() == []  # "A stock env.py prints nothing."
    with_asset(root)
    assert sorted(found()) == sorted(PIECES)


def test_stock_env_py_ignores_database_url(tmp_path: Path, postgresql_url: URL) -> None:
    """It migrates alembic.ini's SQLite file, exits 0, and PostgreSQL stays empty."""
    root = stock_project(tmp_path, "sqlite+aiosqlite:///%(here)s/local.db")

    result = alembic(root, "alembic upgrade head", {"DATABASE_URL": url_text(postgresql_url)})

    assert result.returncode == 0, result.stderr
    assert (root / "local.db").exists()
    assert fetch(postgresql_url, "SELECT to_regclass('alembic_version') IS NULL") == [(True,)]


@pytest.mark.parametrize("env_py", ["stock", "asset"])
def test_lock_timeout_argument(env_py: str, tmp_path: Path, postgresql_url: URL) -> None:
    """`-x lock_timeout=1s`: the asset gives up after 1 s; a stock env.py waits on."""
    root = stock_project(tmp_path, url_text(postgresql_url).replace("%", "%%"))
    if env_py == "asset":
        with_asset(root)
    environment = alembic_environment(DATABASE_URL=url_text(postgresql_url))
    assert alembic(root, "alembic upgrade a1", environment).returncode == 0
    # An open write transaction on items: a2's index build and ALTER must wait for it.
    with table_locked(postgresql_url, "items", "ROW EXCLUSIVE"):
        started = time.monotonic()
        process = subprocess.Popen(
            [alembic_executable(), "-x", "lock_timeout=1s", "upgrade", "head"],
            cwd=root,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            output, _ = process.communicate(timeout=4)
            waited = time.monotonic() - started
        except subprocess.TimeoutExpired:
            waits = fetch(
                postgresql_url,
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()",
            )
            process.kill()
            output, waited = process.communicate()[0], None
    if env_py == "stock":
        assert waited is None, output  # still waiting 4 s on, its 1 s limit ignored
        assert waits == [(1,)]  # and it was waiting on the lock, not stuck elsewhere
    else:
        assert waited is not None and process.returncode != 0, output
        assert "lock_timeout" in output and "1s" in output, output


@pytest.mark.parametrize("env_py", ["stock", "asset"])
def test_one_failing_revision(env_py: str, tmp_path: Path, postgresql_url: URL) -> None:
    """Stock: every pending revision shares a transaction, so a3 failing undoes a1 and a2."""
    root = stock_project(tmp_path, url_text(postgresql_url).replace("%", "%%"))
    if env_py == "asset":
        with_asset(root)
    (root / "alembic" / "versions" / "a3_fails.py").write_text(FAILING_REVISION)

    result = alembic(root, "alembic upgrade head", {"DATABASE_URL": url_text(postgresql_url)})

    assert result.returncode != 0
    assert "division by zero" in result.stdout + result.stderr
    tables = fetch(postgresql_url, "SELECT to_regclass('items'), to_regclass('alembic_version')")
    if env_py == "stock":
        assert tables == [(None, None)]  # a1 and a2 rolled back with a3
    else:
        assert fetch(postgresql_url, "SELECT version_num FROM alembic_version") == [("a2",)]
