"""scripts/check_migrations.py run as an agent or CI runs it: a process of its own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from project import PROJECT_DIR, python_executable

CHECKER = PROJECT_DIR / "scripts" / "check_migrations.py"


def run_checker(
    *args: str | Path,
    cwd: Path = PROJECT_DIR,
    env: dict[str, str] | None = None,
    python_flags: tuple[str, ...] = (),
) -> subprocess.CompletedProcess[str]:
    """The checker's exit code and output.

    Without flags, a fork of the suite's fork server: the same script, started faster.
    """
    python = [sys.executable, *python_flags] if python_flags else [python_executable()]
    return subprocess.run(
        [*python, str(CHECKER), *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_json(*args: str | Path, **kwargs: Any) -> tuple[subprocess.CompletedProcess[str], Any]:
    """``--format json``: the process and its parsed output."""
    completed = run_checker("--format", "json", *args, **kwargs)
    return completed, json.loads(completed.stdout)


def findings_of(rule: str, *args: str | Path, **kwargs: Any) -> list[dict[str, Any]]:
    """One rule's findings from a run that must have worked (exit 0 or 1)."""
    completed, findings = run_json(*args, **kwargs)
    assert completed.returncode in (0, 1), completed.stderr
    return [finding for finding in findings if finding["rule"] == rule]
