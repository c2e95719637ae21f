"""The deploy retry loop in references/deploying.md, run exactly as written."""

from __future__ import annotations

import re
import subprocess
import threading
from pathlib import Path

from project import PROJECT_DIR, alembic, alembic_environment, fetch, revision_ids, table_locked
from sqlalchemy.engine import URL

MARKER = "<!-- tested: deploy-retry -->"


def retry_loop() -> str:
    """The bash block that follows the marker in deploying.md."""
    text = (PROJECT_DIR / "references" / "deploying.md").read_text()
    match = re.search(re.escape(MARKER) + r"\n```bash\n(.*?)```", text, re.DOTALL)
    assert match, "deploying.md lost its tested retry loop"
    return match.group(1)


def start_loop(project: Path, database_url: str) -> subprocess.Popen[str]:
    env = alembic_environment(
        DATABASE_URL=database_url, MIGRATION_LOCK_TIMEOUT="300ms", RETRY_PAUSE_SECONDS="1"
    )
    return subprocess.Popen(
        ["bash", "-c", retry_loop()],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_retries_a_lock_timeout_then_succeeds(project_copy: Path, postgresql_url: URL) -> None:
    url = postgresql_url.render_as_string(hide_password=False)
    assert (
        alembic(
            project_copy, f"alembic upgrade {revision_ids()[-2]}", {"DATABASE_URL": url}
        ).returncode
        == 0
    )

    first_attempt_failed = threading.Event()
    with table_locked(postgresql_url, "users"):
        loop = start_loop(project_copy, url)
        assert loop.stderr is not None
        stderr_lines = []
        for line in loop.stderr:  # release the lock once the first attempt gave up
            stderr_lines.append(line)
            if "FAILED: lock timeout" in line:
                first_attempt_failed.set()
                break
    rest_out, rest_err = loop.communicate(timeout=60)

    assert first_attempt_failed.is_set(), "".join(stderr_lines) + rest_err
    assert loop.returncode == 0, rest_out + rest_err
    assert fetch(postgresql_url, "SELECT version_num FROM alembic_version") == [
        (revision_ids()[-1],)
    ]


def test_other_failures_are_not_retried(project_copy: Path) -> None:
    loop = start_loop(project_copy, "not a url")
    _, err = loop.communicate(timeout=60)
    assert loop.returncode == 1
    assert err.count("FAILED:") == 1, err
