"""The project's Python is formatted and linted with its own ruff settings."""

from __future__ import annotations

import subprocess
import sys

from project import PROJECT_DIR


def ruff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args], cwd=PROJECT_DIR, capture_output=True, text=True
    )


def test_ruff_check() -> None:
    result = ruff("check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout


def test_ruff_format() -> None:
    result = ruff("format", "--check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout
