"""Eight replicas running `alembic upgrade head` at the same moment on PostgreSQL.

The test takes the migrations' advisory lock itself, starts eight `alembic
upgrade head` processes, waits until every one of them is waiting for that
lock, then lets go: all eight go at once, as replicas released by a deploy do.
Each kind of pending revision below is raced: plain DDL, a concurrent index
build, a VALIDATE CONSTRAINT and a batched backfill in autocommit_block().
The concurrent build is the one that deadlocked when waiters blocked in
pg_advisory_lock() inside a transaction: the build waits for their snapshots.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from project import (
    alembic_executable,
    copy_project,
    example_revision,
    execute,
    fetch,
    install_revisions,
    revision_ids,
    url_text,
)
from replicas import (
    FINISH_TIMEOUT_S,
    REPLICAS,
    START_TIMEOUT_S,
    WAITING_LINE,
    alembic_env,
    collect,
    migration_lock_held,
    race,
    upgrades_run,
)
from sqlalchemy.engine import URL

# What a replica that lost the race reports (quoted in references/deploying.md).
# The same race on any table the revisions create: users first, projects for a replica
# that got past the first revision while another was still on it.
RACE_ERRORS = [
    'duplicate key value violates unique constraint "pg_type_typname_nsp_index"',
    'relation "users" already exists',
    'type "users" already exists',
    'relation "projects" already exists',
    'type "projects" already exists',
    "Online migration expected to match one row",  # two replicas bumped alembic_version
]


def seed_users(url: URL, count: int = 40) -> None:
    execute(
        url,
        "INSERT INTO users (id, email, name) VALUES (:id, :email, :name)",
        [
            {"id": f"{n:08d}", "email": f"User{n}@Example.com", "name": f"User {n}"}
            for n in range(count)
        ],
    )


def seed_reviewed_projects(url: URL) -> None:
    seed_users(url, 4)
    execute(
        url,
        "INSERT INTO projects (id, name, owner_id, reviewer_id) "
        "SELECT 'p' || id, 'project ' || id, id, id FROM users",
    )


@dataclass(frozen=True)
class PendingRevision:
    """Recipe files applied before the race, the ones the replicas race to apply."""

    applied: tuple[str, ...] = ()
    pending: tuple[str, ...] = ()
    seed: Callable[[URL], None] | None = None
    done: str = "SELECT true"  # true once the pending work is in place


KINDS = {
    # An empty database: the project's own CREATE TABLEs and role backfill.
    "plain-ddl": PendingRevision(
        done="SELECT count(*) = 2 FROM pg_tables WHERE tablename IN ('users', 'projects')"
    ),
    "concurrent-index": PendingRevision(
        pending=("03_create_index_concurrently.py",),
        seed=seed_users,
        done="SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_users_created_at'::regclass",
    ),
    "validate-constraint": PendingRevision(
        applied=(
            "06_foreign_key_not_valid/1_add_column.py",
            "06_foreign_key_not_valid/2_index_reviewer_id.py",
            "06_foreign_key_not_valid/3_add_foreign_key_not_valid.py",
        ),
        pending=("06_foreign_key_not_valid/4_validate_foreign_key.py",),
        seed=seed_reviewed_projects,
        done="SELECT convalidated FROM pg_constraint "
        "WHERE conname = 'fk_projects_reviewer_id_users'",
    ),
    "batched-backfill": PendingRevision(
        pending=("08_resumable_backfill.py",),
        seed=seed_users,
        done="SELECT count(*) = 0 FROM users WHERE email_normalized IS NULL",
    ),
}


def project_one_behind(tmp_path: Path, url: URL, kind: PendingRevision) -> tuple[Path, list[str]]:
    """A project copy with the kind's recipes installed, the database one step behind.

    Returns the project and the revisions still to apply.
    """
    project = copy_project(tmp_path / "project")
    config = Config(project / "alembic.ini", stdout=io.StringIO())
    config.attributes["configure_logger"] = False
    install_revisions(project, revision_ids()[-1], *kind.applied, *kind.pending, batch_size=7)
    pending = [example_revision(name) for name in kind.pending] or revision_ids()
    script = ScriptDirectory.from_config(config)
    start = script.get_revision(pending[0]).down_revision
    if start is not None:
        command.upgrade(config, str(start))  # env.py reads DATABASE_URL, set by the test
        if kind.seed:
            kind.seed(url)
    return project, pending


@pytest.mark.parametrize("kind", KINDS)
def test_replicas_apply_each_revision_once(
    kind: str, tmp_path: Path, postgresql_url: URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    """All eight exit 0, each pending revision runs once, no INVALID index is left."""
    monkeypatch.setenv("DATABASE_URL", url_text(postgresql_url))
    project, pending = project_one_behind(tmp_path, postgresql_url, KINDS[kind])

    results = asyncio.run(race(project, postgresql_url))

    logs = "\n".join(f"--- replica {n}: exit {rc}\n{log}" for n, (rc, log) in enumerate(results))
    assert [rc for rc, _ in results] == [0] * REPLICAS, logs
    assert [upgrades_run(results, revision) for revision in pending] == [1] * len(pending), logs
    assert fetch(postgresql_url, "SELECT version_num FROM alembic_version") == [(pending[-1],)]
    assert (
        fetch(
            postgresql_url, "SELECT indexrelid::regclass::text FROM pg_index WHERE NOT indisvalid"
        )
        == []
    )
    assert fetch(postgresql_url, KINDS[kind].done) == [(True,)]
    # Waiting replicas said so, naming the lock holder's process.
    assert sum(WAITING_LINE in log for _, log in results) >= REPLICAS - 1, logs


def test_without_the_lock_replicas_collide(project_copy: Path, postgresql_url: URL) -> None:
    """What the lock buys: the same race without it runs DDL twice and fails."""
    results = asyncio.run(
        race(
            project_copy,
            postgresql_url,
            block_version_table=True,
            MIGRATION_ADVISORY_LOCK="false",
            MIGRATION_LOCK_TIMEOUT="2min",  # the replicas wait on the test's table lock
        )
    )

    failures = [log for rc, log in results if rc != 0]
    assert failures, "all replicas succeeded without the lock"
    assert upgrades_run(results, revision_ids()[0]) > 1
    for log in failures:  # each failed on the race, as deploying.md says
        assert any(error in log for error in RACE_ERRORS), log


async def test_waiting_replica_outlasts_its_timeouts(
    project_copy: Path, postgresql_url: URL
) -> None:
    """A replica waits for the lock longer than lock_timeout and statement_timeout allow."""
    env = alembic_env(
        postgresql_url, MIGRATION_LOCK_TIMEOUT="200ms", MIGRATION_STATEMENT_TIMEOUT="500ms"
    )
    log: list[str] = []
    async with migration_lock_held(postgresql_url):
        process = await asyncio.create_subprocess_exec(
            alembic_executable(), "upgrade", "head", cwd=project_copy, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        reader = asyncio.create_task(collect(process.stdout, log))
        for _ in range(START_TIMEOUT_S * 10):
            if any(WAITING_LINE in line for line in log) or process.returncode is not None:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # twice statement_timeout, five times lock_timeout
    await asyncio.wait_for(asyncio.gather(process.wait(), reader), FINISH_TIMEOUT_S)

    assert process.returncode == 0, "".join(log)
    assert any(WAITING_LINE in line for line in log), "".join(log)
    version = await asyncio.to_thread(
        fetch, postgresql_url, "SELECT version_num FROM alembic_version"
    )
    assert version == [(revision_ids()[-1],)]


async def test_readiness_check_does_not_wait_for_a_migration(
    project_copy: Path, postgresql_url: URL
) -> None:
    """`alembic current` answers while a migration holds the lock."""
    async with migration_lock_held(postgresql_url):
        process = await asyncio.create_subprocess_exec(
            alembic_executable(), "current", "--check-heads", cwd=project_copy,
            env=alembic_env(postgresql_url),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode != 0  # an empty database is not at head: but it answered
    assert b"Database is not on all head revisions" in output
