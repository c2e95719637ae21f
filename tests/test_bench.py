"""bench/run.py --quick produces every output with every key. No timing is asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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


def test_quick_run_writes_every_result(tmp_path: Path, postgres_server_url: URL) -> None:
    # The suite's server, handed over the way a user points the benchmark at theirs.
    env = dict(os.environ, TEST_POSTGRES_URL=postgres_server_url.render_as_string(False))
    bench = [sys.executable, str(PROJECT_DIR / "bench" / "run.py")]
    result = subprocess.run(
        [*bench, "--quick", "--output", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert result.returncode == 0, result.stderr

    figures = json.loads((tmp_path / "latest.json").read_text())
    assert set(figures["dialects"]) == {"postgresql", "sqlite"}
    for dialect, measured in figures["dialects"].items():
        assert measured["rows"] == 2_000
        assert measured["server_version"], dialect
        assert set(measured["backfill"]) >= BACKFILL_KEYS, dialect
        assert set(measured["index"]) >= INDEX_KEYS, dialect
        assert measured["scale"]["per_row_us"], dialect
        assert {"upgrade_head_s", "downgrade_base_s"} <= set(measured["full_run"])
    assert figures["dialects"]["postgresql"]["index"]["index_concurrent_writer_max_ms"] is not None

    table = (tmp_path / "latest.md").read_text()
    assert table in result.stdout
    assert "CREATE INDEX CONCURRENTLY" in table

    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib is not installed" in result.stderr
    else:
        assert (tmp_path / "writer_latency.png").stat().st_size > 0
