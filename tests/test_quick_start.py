"""SKILL.md's Quick start, run as written from an empty folder, and the commands after it.

The bash blocks of the Quick start section run in one shell, in order, in a
fresh temp folder, with the skill installed where the first line looks for it
($HOME/.claude/skills/alembic). Only two things change: the `pip install`
line is skipped (the suite's environment has those packages; a test checks
they are the project's dependencies), and the example PostgreSQL URL is
aimed at the suite's server. On PostgreSQL, DATABASE_URL is exported for the
whole run, so every step there migrates the server and not app.db.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
from project import PROJECT_DIR, alembic_environment, fetch, python_executable
from sqlalchemy.engine import URL, make_url

SKILL_MD = PROJECT_DIR / "SKILL.md"
EXAMPLE_URL = "postgresql+asyncpg://app:secret@localhost/app"
BASH_BLOCK = re.compile(r"^ *```bash\n(.*?)^ *```", re.DOTALL | re.MULTILINE)
FIRST_REVISION = re.compile(r"^\d{4}_\d{2}_\d{2}_\d{6}-0001_create_users_and_projects\.py$")


def section(title: str) -> str:
    """The text of the SKILL.md section whose heading starts with ``title``."""
    match = re.search(rf"^## {re.escape(title)}.*?(?=^## )", SKILL_MD.read_text(), re.S | re.M)
    assert match, f"SKILL.md has no section {title!r}"
    return match[0]


def bash_lines(text: str) -> list[str]:
    """The non-empty lines of every bash block in ``text``, dedented, in order."""
    return [
        line.strip()
        for block in BASH_BLOCK.findall(text)
        for line in block.splitlines()
        if line.strip()
    ]


def test_quick_start_installs_what_the_project_depends_on() -> None:
    pyproject = (PROJECT_DIR / "pyproject.toml").read_text()
    installs = [line for line in bash_lines(section("Quick start")) if line.startswith("pip ")]
    assert len(installs) == 1
    for package in shlex.split(installs[0], comments=True)[2:]:
        assert f'"{package.split("[")[0]}' in pyproject or f'"{package}' in pyproject, package


def install_skill(home: Path) -> None:
    """The skill where SKILL.md's first Quick start line looks for it by default."""
    skills = home / ".claude" / "skills"
    skills.mkdir(parents=True)
    (skills / "alembic").symlink_to(PROJECT_DIR)


def run_quick_start(folder: Path, home: Path, postgres: URL | None) -> str:
    """Run the Quick start's shell lines in ``folder``; return everything they printed."""
    lines = [line for line in bash_lines(section("Quick start")) if not line.startswith("pip ")]
    environment = alembic_environment(HOME=str(home))
    environment.pop("SKILL", None)  # the first line's default must find the skill
    if postgres is None:
        kept = [line for line in lines if EXAMPLE_URL not in line]
        assert len(lines) - len(kept) == 1, "the PostgreSQL line is gone from the Quick start"
        lines = kept
    else:
        server = postgres.render_as_string(hide_password=False)
        environment["DATABASE_URL"] = server
        lines = [line.replace(EXAMPLE_URL, server) for line in lines]
    script = "set -euxo pipefail\n" + "\n".join(lines) + "\n"
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_quick_start_runs_as_written_in_an_empty_folder(
    dialect: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    postgres = request.getfixturevalue("postgresql_url") if dialect == "postgresql" else None
    folder, home = tmp_path / "new-project", tmp_path / "home"
    folder.mkdir()
    install_skill(home)

    output = run_quick_start(folder, home, postgres)

    revisions = sorted(path.name for path in (folder / "alembic" / "versions").glob("*.py"))
    assert revisions[0] == "0002_backfill_user_roles.py" and len(revisions) == 2
    assert FIRST_REVISION.match(revisions[1]), revisions  # alembic.ini's dated file names
    assert "Running post write hook 'ruff_format'" in output  # and its ruff hook
    assert "No findings in 2 revision files." in output  # the safety checker ran, clean
    database = postgres or make_url(f"sqlite+aiosqlite:///{folder / 'app.db'}")
    assert fetch(database, "SELECT version_num FROM alembic_version") == [("0002",)]
    assert fetch(database, "SELECT count(role), count(*) FROM users") == [(0, 0)]
    assert fetch(database, "SELECT count(*) FROM projects") == [(0,)]
    # On PostgreSQL nothing went to a local file: DATABASE_URL won everywhere.
    assert (folder / "app.db").exists() == (postgres is None)
    if postgres is None:  # once is enough: the scripts cover both dialects themselves
        run_proof_lines(folder, home, request.getfixturevalue("postgres_server_url"))


def run_proof_lines(folder: Path, home: Path, postgres_server_url: URL) -> None:
    """The Workflow's verify and trace lines, from the new project's root, as a user runs them.

    On the suite's PostgreSQL server rather than one of their own, and with
    fewer generated rows: what they do is the same, only the cost differs.
    """
    commands = [
        shlex.split(line.replace("$SKILL", str(home / ".claude" / "skills" / "alembic")), True)
        for line in bash_lines(section("Workflow"))
    ]
    assert [Path(command[1]).name for command in commands] == [
        "verify_migrations.py",
        "lock_trace.py",
    ]
    server = postgres_server_url.set(database="postgres").render_as_string(hide_password=False)
    for command in commands:
        assert command[0] == "python"
        args = [re.sub(r"^100000$", "200", word) for word in command[2:]]
        result = subprocess.run(
            [python_executable(), command[1], *args, "--postgres-url", server],
            cwd=folder,
            env=alembic_environment(HOME=str(home)),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
        assert "0002" in result.stdout, result.stdout  # it ran the new project's revisions
