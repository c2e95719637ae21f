"""bench/run.py --quick produces every output with every key, away from the published
figures in bench/results. No timing is asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from project import PROJECT_DIR
from sqlalchemy.engine import URL

BACKFILL_KEYS = {
    "backfill_single_s",
    "backfill_batched_s",
    "writer_p99_single_ms",
    "writer_max_single_ms",
    "writer_p99_batched_ms",
    "writer_max_batched_ms",
}
INDEX_KEYS = {"index_plain_writer_max_ms", "index_concurrent_writer_max_ms"}
PUBLISHED = PROJECT_DIR / "bench" / "results"


def snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    """Each file's modification time and content."""
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(folder.iterdir())}


@pytest.mark.slow  # a whole benchmark run, with a server of its own: about 10 s
def test_quick_run_writes_every_result_to_a_temp_folder(
    tmp_path: Path, postgres_server_url: URL
) -> None:
    """No --output: a new temp folder, named on stderr; bench/results is left as it was."""
    published = snapshot(PUBLISHED)
    # The suite's server, handed over the way a user points the benchmark at theirs;
    # the temp folder lands under tmp_path.
    env = dict(
        os.environ,
        TEST_POSTGRES_URL=postgres_server_url.render_as_string(False),
        TMPDIR=str(tmp_path),
    )
    bench = [sys.executable, str(PROJECT_DIR / "bench" / "run.py")]
    result = subprocess.run(
        [*bench, "--quick"], capture_output=True, text=True, timeout=300, env=env
    )
    assert result.returncode == 0, result.stderr

    assert snapshot(PUBLISHED) == published
    said = [line for line in result.stderr.splitlines() if line.startswith("results: ")]
    assert len(said) == 1, result.stderr
    folder = Path(said[0].rsplit(" in ", 1)[1])
    assert folder.parent == tmp_path.resolve() and folder.name.startswith("bench-quick-")
    assert said[0].startswith("results: latest.md, latest.json")

    figures = json.loads((folder / "latest.json").read_text())
    assert set(figures["dialects"]) == {"postgresql", "sqlite"}
    for dialect, measured in figures["dialects"].items():
        assert measured["rows"] == 2_000
        assert measured["server_version"], dialect
        assert set(measured["backfill"]) >= BACKFILL_KEYS, dialect
        assert set(measured["index"]) >= INDEX_KEYS, dialect
        assert measured["scale"]["per_row_us"], dialect
        assert {"upgrade_head_s", "downgrade_base_s"} <= set(measured["full_run"])
    assert figures["dialects"]["postgresql"]["index"]["index_concurrent_writer_max_ms"] is not None

    table = (folder / "latest.md").read_text()
    assert table in result.stdout
    assert "CREATE INDEX CONCURRENTLY" in table

    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib is not installed" in result.stderr
    else:
        assert (folder / "writer_latency.png").stat().st_size > 0
        assert said[0].endswith(f"writer_latency.png in {folder}")
