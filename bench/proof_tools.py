"""How long verify_migrations.py and lock_trace.py take, against their targets.

    python bench/proof_tools.py [--runs N] [--rows N] [--output DIR]

verify_migrations.py runs on this project, on both dialects (an embedded
PostgreSQL started by the script itself, as for a user), and lock_trace.py on
a copy of this project with recipe 03 (a concurrent index build) added, with
--rows generated rows per table. Each command runs --runs times as a
separate process; the slowest run is held against the target. Results go to
stdout and to DIR/proof_tools.json (default bench/results); the run ends by
saying where. On SIGINT or SIGTERM the running script is stopped the way it
cleans up after itself.
"""

from __future__ import annotations

import argparse
import json
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
SCRIPTS = PROJECT_DIR / "scripts"
TARGETS_S = {"verify": 20.0, "trace": 30.0}
INDEX_RECIPE = "03_create_index_concurrently.py"

sys.path.insert(0, str(PROJECT_DIR / "tests"))  # the suite's project copy and signal handling
import postgres  # noqa: E402
from project import PLACEHOLDER_HEAD, copy_project, install_revisions  # noqa: E402


def timed(command: list[str], cwd: Path) -> float:
    """Seconds one run of ``command`` takes; exits if it fails.

    Interrupted, the script gets SIGTERM and is waited for: it then stops its
    embedded server, which a kill (subprocess.run's way) would leave running.
    In a session of its own, Ctrl-C reaches it once, from here.
    """
    started = time.monotonic()
    with subprocess.Popen(
        command,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            _, stderr = process.communicate(timeout=600)
        except BaseException:
            process.send_signal(signal.SIGTERM)
            _, said = process.communicate()
            print(
                f"{Path(command[1]).name} said on its way out: {said.strip()[-500:]}",
                file=sys.stderr,
            )
            raise
    elapsed = time.monotonic() - started
    if process.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({process.returncode}):\n{stderr[-2000:]}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    postgres.interrupt_on_stop_signals()  # once, as bench/run.py: a second must not cut it short
    try:
        return measure(argv)
    except KeyboardInterrupt:
        print("bench/proof_tools.py: interrupted; no results written", file=sys.stderr)
        return 130


def measure(argv: list[str] | None) -> int:
    """Time each command, write the figures, and say where they went."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per command (default 3)")
    parser.add_argument(
        "--rows", type=int, default=100_000, help="rows per table for lock_trace (default 100000)"
    )
    parser.add_argument("--output", type=Path, default=PROJECT_DIR / "bench" / "results")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="proof-bench-") as folder:
        verify_project = copy_project(Path(folder) / "verify")
        trace_project = copy_project(Path(folder) / "trace")
        install_revisions(trace_project, PLACEHOLDER_HEAD, INDEX_RECIPE)
        commands = {
            "verify": ([sys.executable, str(SCRIPTS / "verify_migrations.py")], verify_project),
            "trace": (
                [sys.executable, str(SCRIPTS / "lock_trace.py"), "--rows", str(args.rows)],
                trace_project,
            ),
        }
        seconds = {
            name: [timed(command, cwd) for _ in range(args.runs)]
            for name, (command, cwd) in commands.items()
        }

    figures = {
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "runs": args.runs,
        "trace_rows": args.rows,
        "results": {
            name: {
                "seconds": [round(s, 2) for s in runs],
                "slowest_s": round(max(runs), 2),
                "target_s": TARGETS_S[name],
                "met": max(runs) <= TARGETS_S[name],
            }
            for name, runs in seconds.items()
        },
    }
    args.output.mkdir(parents=True, exist_ok=True)
    written = args.output / "proof_tools.json"
    written.write_text(json.dumps(figures, indent=2) + "\n")
    for name, result in figures["results"].items():
        runs = ", ".join(f"{s:.1f}" for s in result["seconds"])
        verdict = "met" if result["met"] else "NOT MET"
        print(f"{name:<7} runs {runs} s; slowest {result['slowest_s']:.1f} s; "
              f"target {result['target_s']:.0f} s: {verdict}")  # fmt: skip
    print(f"results: {written.resolve()}", file=sys.stderr)
    return 0 if all(r["met"] for r in figures["results"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
