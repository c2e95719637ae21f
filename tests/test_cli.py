"""Every command in SKILL.md's reference, run through the real alembic CLI."""

from __future__ import annotations

import asyncio
import re
import shlex
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from postgres import execute_autocommit
from project import PROJECT_DIR, alembic, alembic_environment, revision_ids
from sqlalchemy.engine import URL

COMMAND_ROW = re.compile(r"^\| `((?:alembic|python migrate\.py) [^`]+)` \|", re.MULTILINE)
PASSWORD = "s3cret-Pa55word"


def skill_commands() -> list[str]:
    """The commands of SKILL.md's reference table, in table order."""
    return COMMAND_ROW.findall((PROJECT_DIR / "SKILL.md").read_text())


def versions(project: Path) -> set[str]:
    return {p.name for p in (project / "alembic" / "versions").glob("*.py")}


def create_tables_without_alembic(project: Path) -> None:
    """What an application's create_all() leaves: tables, no alembic_version."""
    code = (
        "import sqlite3, models; from sqlalchemy import create_engine;"
        "models.Base.metadata.create_all(create_engine('sqlite:///app.db'))"
    )
    subprocess.run([sys.executable, "-c", code], cwd=project, check=True)


def add_last_login_to_models(project: Path) -> None:
    models = project / "models.py"
    models.write_text(
        models.read_text().replace(
            "class Project(Base):",
            "User.last_login = mapped_column(DateTime(timezone=True), nullable=True)\n\n\n"
            "class Project(Base):",
        )
    )


def make_a_second_head(project: Path) -> None:
    result = alembic(
        project, f'alembic revision -m "parallel branch" --head {revision_ids()[0]} --splice'
    )
    assert result.returncode == 0, result.stderr
    assert len(alembic(project, "alembic heads").stdout.splitlines()) == 2


# Commands that only mean something in a prepared state get it here.
SETUP: dict[str, Callable[[Path], None]] = {
    "alembic stamp head": create_tables_without_alembic,
    "alembic revision --autogenerate": add_last_login_to_models,
    "alembic merge heads": make_a_second_head,
}


def setup_for(command: str) -> Callable[[Path], None] | None:
    return next((fn for prefix, fn in SETUP.items() if command.startswith(prefix)), None)


def test_reference_lists_the_commands_people_need() -> None:
    commands = skill_commands()
    for needed in [
        "alembic upgrade head", "alembic downgrade -1", "alembic history", "alembic current",
        "alembic upgrade +1", "alembic revision --autogenerate", "alembic revision -m",
        "alembic check", "alembic heads", "alembic merge heads", "alembic stamp head",
        "alembic show head", "alembic history --verbose", "alembic current --check-heads",
        "alembic upgrade head --sql", "alembic downgrade base",
    ]:  # fmt: skip
        assert any(c.startswith(needed) for c in commands), needed


def test_every_reference_command_runs(project_copy: Path) -> None:
    before = versions(project_copy)
    for command in skill_commands():
        setup = setup_for(command)
        if setup:
            setup(project_copy)
        if command.startswith("python "):  # the project's own scripts, with this venv's python
            result = subprocess.run(
                [sys.executable, *shlex.split(command)[1:]],
                cwd=project_copy,
                env=alembic_environment(),
                capture_output=True,
                text=True,
            )
        else:
            result = alembic(project_copy, command)
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"

    # What the commands left behind: two new revisions plus a merge, all at head.
    new_files = versions(project_copy) - before
    assert any(
        "last_login" in (project_copy / "alembic/versions" / f).read_text() for f in new_files
    )
    assert len(alembic(project_copy, "alembic heads").stdout.splitlines()) == 1
    assert alembic(project_copy, "alembic upgrade head").returncode == 0
    assert alembic(project_copy, "alembic check").returncode == 0
    ruff = [sys.executable, "-m", "ruff"]
    files = [str(project_copy / "alembic/versions" / f) for f in sorted(new_files)]
    lint = subprocess.run(
        [*ruff, "check", *files], cwd=project_copy, capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout
    fmt = subprocess.run(
        [*ruff, "format", "--check", *files], cwd=project_copy, capture_output=True, text=True
    )
    assert fmt.returncode == 0, fmt.stdout


def test_autogenerate_without_changes_writes_no_file(project_copy: Path) -> None:
    assert alembic(project_copy, "alembic upgrade head").returncode == 0
    before = versions(project_copy)
    result = alembic(project_copy, 'alembic revision --autogenerate -m "nothing"')
    assert result.returncode == 0
    assert "no revision written" in result.stderr
    assert versions(project_copy) == before


def test_default_database_sits_next_to_alembic_ini(project_copy: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = alembic(elsewhere, f"alembic -c {project_copy / 'alembic.ini'} upgrade head")
    assert result.returncode == 0, result.stderr
    assert (project_copy / "app.db").is_file()
    assert list(elsewhere.iterdir()) == []


def test_upgrade_logs_each_revision(project_copy: Path) -> None:
    result = alembic(project_copy, "alembic upgrade head")
    for revision in revision_ids():
        assert f"-> {revision}" in result.stderr


# --- bad input: one clear line, no traceback, no password ---------------------


def assert_clean_failure(result: subprocess.CompletedProcess[str], expected: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Traceback" not in output
    assert PASSWORD not in output
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAILED:")]
    assert len(failed) == 1, output
    assert expected in failed[0]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url", "DATABASE_URL is not a valid SQLAlchemy URL"),
        (f"mysqlx+nodriver://app:{PASSWORD}@localhost/app", "unknown database driver"),
        (f"postgresql+asyncpg://app:{PASSWORD}@127.0.0.1:1/app", "cannot connect to"),
        (f"postgresql+asyncpg://app:{PASSWORD}@db:notaport/app", "not a valid SQLAlchemy URL"),
        (f"postgresql+psycopg2://app:{PASSWORD}@localhost/app", "synchronous driver"),
        ("sqlite+pysqlite:///app.db", "synchronous driver"),
    ],
    ids=["malformed", "unknown-driver", "unreachable-host", "bad-port", "sync-pg", "sync-sqlite"],
)
def test_bad_database_url(project_copy: Path, url: str, expected: str) -> None:
    result = alembic(project_copy, "alembic upgrade head", env={"DATABASE_URL": url})
    assert_clean_failure(result, expected)
    assert not (project_copy / "app.db").exists()


def test_missing_postgresql_database(project_copy: Path, postgres_server_url: URL) -> None:
    url = postgres_server_url.set(database="no_such_database", password=PASSWORD)
    result = alembic(
        project_copy,
        "alembic upgrade head",
        env={"DATABASE_URL": url.render_as_string(hide_password=False)},
    )
    assert_clean_failure(result, 'database "no_such_database" does not exist')


def test_libpq_sslmode_is_understood(project_copy: Path, postgresql_url: URL) -> None:
    """Hosting platforms add ?sslmode=; asyncpg calls it ssl, and env.py translates."""
    url = postgresql_url.update_query_dict({"sslmode": "disable"})
    result = alembic(
        project_copy,
        "alembic upgrade head",
        env={"DATABASE_URL": url.render_as_string(hide_password=False)},
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_unknown_revision(project_copy: Path) -> None:
    result = alembic(project_copy, "alembic upgrade nosuchrev")
    assert result.returncode != 0
    assert "Can't locate revision identified by 'nosuchrev'" in result.stdout + result.stderr


# --- passwords with URL metacharacters ---------------------------------------

SPECIAL_PASSWORD = "p%4@ss/w:rd"  # %, @, / and : all need URL-encoding


def require_password_auth(server_url: URL, role: str) -> None:
    """Make the server check ``role``'s password, or skip saying why it cannot.

    The embedded server trusts local connections; its pg_hba.conf sits in the
    socket directory, so a rule for this role is added and the server reloaded.
    """
    hba = Path(str(server_url.query.get("host", ""))) / "pg_hba.conf"
    if hba.is_file():
        hba.write_text(f"local all {role} scram-sha-256\n" + hba.read_text())
        asyncio.run(execute_autocommit(server_url, "SELECT pg_reload_conf()"))
        return
    wrong = server_url.set(username=role, password="wrong")
    try:
        asyncio.run(execute_autocommit(wrong, "SELECT 1"))
    except Exception:
        return
    pytest.skip("the server at TEST_POSTGRES_URL accepts any password for this role")


def test_password_with_url_metacharacters(
    project_copy: Path, postgres_server_url: URL, postgresql_url: URL
) -> None:
    role = f"app_{uuid.uuid4().hex[:8]}"
    asyncio.run(
        execute_autocommit(
            postgres_server_url,
            f"CREATE ROLE {role} LOGIN PASSWORD '{SPECIAL_PASSWORD}'",
            f'ALTER DATABASE "{postgresql_url.database}" OWNER TO {role}',
        )
    )
    asyncio.run(execute_autocommit(postgresql_url, f"ALTER SCHEMA public OWNER TO {role}"))
    require_password_auth(postgres_server_url, role)

    encoded = postgresql_url.set(username=role, password=SPECIAL_PASSWORD)
    database_url = encoded.render_as_string(hide_password=False)
    assert quote_plus(SPECIAL_PASSWORD) in database_url or quote(SPECIAL_PASSWORD, safe="") in (
        database_url
    )

    wrong = alembic(
        project_copy,
        "alembic upgrade head",
        env={"DATABASE_URL": encoded.set(password="not-it").render_as_string(hide_password=False)},
    )
    assert_clean_failure(wrong, "password authentication failed")

    result = alembic(project_copy, "alembic upgrade head", env={"DATABASE_URL": database_url})
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert SPECIAL_PASSWORD not in output and quote_plus(SPECIAL_PASSWORD) not in output


@pytest.mark.parametrize("char", ["@", ":", "/", "%", "#"])
def test_unencoded_password_characters_never_leak(project_copy: Path, char: str) -> None:
    """Typed into DATABASE_URL without encoding: no fragment of the password is shown."""
    url = f"postgresql+asyncpg://app:S3cr{char}tPass@127.0.0.1:1/app"
    result = alembic(project_copy, "alembic upgrade head", env={"DATABASE_URL": url})
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "S3cr" not in output and "tPass" not in output, output
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAILED:")]
    assert len(failed) == 1, output
    if char == "@":  # read as a host, it would connect elsewhere: refused, with the fix
        assert "more than one '@' before its host" in failed[0]
        assert "urllib.parse.quote(sys.argv[1], safe='')" in failed[0]
