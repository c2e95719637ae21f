"""What .commit() and .rollback() in a revision do to Alembic's transaction, proved
with real upgrades on SQLite and PostgreSQL, next to what transaction-control says.

A Session bound to op.get_bind() joins the transaction Alembic already began
(SQLAlchemy's default join_transaction_mode, "conditional_savepoint", acts as
"rollback_only" there): its commit() leaves Alembic's transaction open, so the
checker does not report it. Its rollback() does roll Alembic's transaction
back, and committing the connection itself ends it: both stay findings. Each
revision below does one of these and then fails (or finishes): what the
database holds afterwards shows whether Alembic's transaction survived.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from checker import findings_of
from project import alembic, copy_project, fetch, revision_ids
from project import schema as reflect
from sqlalchemy.engine import URL

FAILURE = "the revision fails after its commit"

REVISION = '''"""A revision that commits or rolls back part-way."""

import os

import sqlalchemy as sa
from alembic import op
from sqlalchemy import orm
from sqlalchemy.orm import Session, sessionmaker

revision = "5e5510c0ffee"
down_revision = "{down}"
branch_labels = None
depends_on = None


class Base(orm.DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "session_notes"
    id = sa.Column(sa.Integer, primary_key=True)
    body = sa.Column(sa.String(40))


def notes_seen() -> int:
    """Rows of session_notes as Alembic's own connection sees them."""
    return op.get_bind().execute(sa.text("SELECT count(*) FROM session_notes")).scalar_one()


def upgrade() -> None:
    op.create_table(
        "session_notes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("body", sa.String(40)),
    )
{body}


def downgrade() -> None:
    op.drop_table("session_notes")
'''

FAIL = f"""
    assert notes_seen() == 1, "the session wrote on another connection"
    raise RuntimeError({FAILURE!r})
"""

# Sessions bound to Alembic's connection, committed: Alembic's transaction stays open.
JOINED_COMMITS = {
    "Session(bind=op.get_bind())": """
    session = Session(bind=op.get_bind())
    session.add(Note(id=1, body="one"))
    session.commit()
""",
    "sessionmaker(bind=bind)()": """
    bind = op.get_bind()
    session = sessionmaker(bind=bind)()
    session.add(Note(id=1, body="one"))
    session.commit()
""",
    "with Session(...) as session": """
    with Session(bind=op.get_bind()) as session:
        session.add(Note(id=1, body="one"))
        session.commit()
""",
}

# Commits that do end Alembic's transaction.
ENDING_COMMITS = {
    "op.get_bind().commit()": """
    op.get_bind().execute(sa.text("INSERT INTO session_notes (id, body) VALUES (1, 'one')"))
    op.get_bind().commit()
""",
    "bind.commit()": """
    bind = op.get_bind()
    bind.execute(sa.text("INSERT INTO session_notes (id, body) VALUES (1, 'one')"))
    bind.commit()
""",
    'join_transaction_mode="control_fully"': """
    session = orm.Session(bind=op.get_bind(), join_transaction_mode="control_fully")
    session.add(Note(id=1, body="one"))
    session.commit()
""",
}

JOINED_ROLLBACK = """
    session = orm.Session(bind=op.get_bind())
    session.add(Note(id=1, body="one"))
    session.flush()
    session.rollback()
    op.create_table("after_rollback", sa.Column("id", sa.Integer, primary_key=True))
"""

# A session on a connection of its own (a sync driver: the env runs on asyncpg).
SEPARATE_COMMIT = """
    url = sa.make_url(os.environ["DATABASE_URL"]).set(drivername="postgresql+psycopg")
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    session = orm.Session(bind=engine)
    session.execute(sa.text("CREATE TABLE separate_notes (id integer)"))
    session.commit()
    engine.dispose()
    raise RuntimeError({failure!r})
"""

# The separate session needs a table Alembic's transaction has locked: it can only wait.
SEPARATE_WAITS = """
    op.add_column("users", sa.Column("waited_for", sa.String(20)))
    url = sa.make_url(os.environ["DATABASE_URL"]).set(drivername="postgresql+psycopg")
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with orm.Session(bind=engine) as session:
        session.execute(sa.text("SET lock_timeout = '1s'"))
        session.execute(sa.text("SELECT count(*) FROM users"))
        session.commit()
    engine.dispose()
"""


def upgrade_with(tmp_path: Path, url: URL, body: str) -> tuple[subprocess.CompletedProcess, Path]:
    """Migrate a project copy to its head, then upgrade to one revision running ``body``."""
    project = copy_project(tmp_path / "project")
    env = {"DATABASE_URL": url.render_as_string(hide_password=False)}
    ready = alembic(project, "alembic upgrade head", env)
    assert ready.returncode == 0, ready.stdout + ready.stderr
    path = project / "alembic" / "versions" / "5e5510c0ffee_session_commit.py"
    path.write_text(REVISION.format(down=revision_ids()[-1], body=body.rstrip()))
    return alembic(project, "alembic upgrade head", env), path


def version(url: URL) -> list[tuple[str, ...]]:
    return fetch(url, "SELECT version_num FROM alembic_version")


def transaction_findings(path: Path) -> list[str]:
    """The checker's transaction-control messages for one revision file."""
    return [finding["message"] for finding in findings_of("transaction-control", path)]


def on_both(shapes: dict[str, str]) -> list[tuple[str, str]]:
    """Every shape on PostgreSQL, the first on SQLite too: the join is SQLAlchemy's,
    the same whatever the driver, and SQLite's transactional DDL is shown once."""
    first = next(iter(shapes))
    return [(shape, "postgresql") for shape in shapes] + [(first, "sqlite")]


@pytest.mark.parametrize(("shape", "dialect"), on_both(JOINED_COMMITS))
def test_session_commit_stays_inside_alembics_transaction(
    tmp_path: Path, dialect: str, shape: str, request: pytest.FixtureRequest
) -> None:
    url: URL = request.getfixturevalue(f"{dialect}_url")
    result, path = upgrade_with(tmp_path, url, JOINED_COMMITS[shape] + FAIL)

    assert result.returncode != 0
    assert FAILURE in result.stdout + result.stderr  # it got past the commit
    assert "session_notes" not in reflect(url)  # rolled back with Alembic's transaction
    assert version(url) == [(revision_ids()[-1],)]
    assert transaction_findings(path) == []


@pytest.mark.parametrize(("shape", "dialect"), on_both(ENDING_COMMITS))
def test_connection_commit_ends_alembics_transaction(
    tmp_path: Path, dialect: str, shape: str, request: pytest.FixtureRequest
) -> None:
    url: URL = request.getfixturevalue(f"{dialect}_url")
    result, path = upgrade_with(tmp_path, url, ENDING_COMMITS[shape] + FAIL)

    assert result.returncode != 0
    assert FAILURE in result.stdout + result.stderr
    # The failure rolled back nothing before the commit: a half-applied revision.
    assert "session_notes" in reflect(url)
    assert fetch(url, "SELECT id, body FROM session_notes") == [(1, "one")]
    assert version(url) == [(revision_ids()[-1],)]
    [message] = transaction_findings(path)
    assert "ends Alembic's transaction early" in message


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_session_rollback_rolls_back_alembics_transaction(
    tmp_path: Path, dialect: str, request: pytest.FixtureRequest
) -> None:
    """No error at all, yet the revision's tables are gone and it is not recorded."""
    url: URL = request.getfixturevalue(f"{dialect}_url")
    result, path = upgrade_with(tmp_path, url, JOINED_ROLLBACK)

    assert result.returncode == 0, result.stdout + result.stderr
    tables = reflect(url)
    assert "session_notes" not in tables
    assert "after_rollback" not in tables
    assert version(url) == [(revision_ids()[-1],)]
    [message] = transaction_findings(path)
    assert "rolls back Alembic's transaction" in message


def test_separate_session_commit_outlives_a_failed_revision(
    tmp_path: Path, postgresql_url: URL
) -> None:
    result, path = upgrade_with(tmp_path, postgresql_url, SEPARATE_COMMIT.format(failure=FAILURE))

    assert result.returncode != 0
    assert FAILURE in result.stdout + result.stderr
    tables = reflect(postgresql_url)
    assert "session_notes" not in tables  # Alembic's transaction was rolled back
    assert "separate_notes" in tables  # the other session's commit was not
    [message] = transaction_findings(path)
    assert "not bound to Alembic's connection" in message
    assert "not atomic with the migration" in message


def test_separate_session_waits_for_the_migrations_own_lock(
    tmp_path: Path, postgresql_url: URL
) -> None:
    """What checks.md says: it hangs until lock_timeout, since no database sees a cycle."""
    result, path = upgrade_with(tmp_path, postgresql_url, SEPARATE_WAITS)

    assert result.returncode != 0
    # env.py names the statement that timed out: the separate session's read of users.
    assert "FAILED: lock timeout" in result.stdout
    assert "Statement: SELECT count(*) FROM users" in result.stdout
    assert "waited_for" not in {column[0] for column in reflect(postgresql_url)["users"]["columns"]}
    [message] = transaction_findings(path)
    assert "waits for the migration's own locks" in message
