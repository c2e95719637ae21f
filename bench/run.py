"""Measure what migrations cost on big tables, and what a live writer sees meanwhile.

    python bench/run.py [--dialect postgresql|sqlite] [--rows N] [--batch-size B]
                        [--quick] [--output DIR]

Scenarios, each on a fresh copy of the seeded users table: the project's
backfill as one UPDATE and in committed primary-key batches, CREATE INDEX
plain and concurrent, the batched backfill at growing sizes, and a full
`alembic upgrade head` / `downgrade base`. Results go to stdout and to
latest.{md,json} in bench/results (the published figures) or, with --quick, in
a new temp folder, with a latency plot when matplotlib is there; --output
picks the folder, and the run ends by saying where they went. SIGINT and
SIGTERM stop the embedded PostgreSQL server and remove its data.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import database
import postgres
import report
import scenarios
from sqlalchemy.engine import URL

DEFAULT_ROWS = {"postgresql": 1_000_000, "sqlite": 200_000}
QUICK_ROWS = 2_000
SCALE_SIZES = (10_000, 100_000, 1_000_000)
RESULTS_DIR = Path(__file__).resolve().parent / "results"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dialect", choices=["postgresql", "sqlite"], help="default: both")
    parser.add_argument(
        "--rows", type=int, help="default: 1,000,000 (PostgreSQL), 200,000 (SQLite)"
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=scenarios.backfill_revision().BATCH_SIZE,
        help="rows per backfill batch (default: the data migration's BATCH_SIZE)",
    )
    parser.add_argument(
        "--sqlite-journal",
        choices=["wal", "delete"],
        default="wal",
        help="SQLite journal mode (default wal; delete is SQLite's own default)",
    )
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ROWS:,} rows: a smoke run")
    parser.add_argument(
        "--output",
        type=Path,
        help="results folder (default: bench/results; with --quick, a new temp folder)",
    )
    args = parser.parse_args(argv)
    if args.rows is not None and args.rows < 1000:
        parser.error("--rows must be at least 1000")
    if args.batch_size < 1:
        parser.error("--batch-size must be positive")
    return args


async def measure(
    url: URL, rows: int, batch_size: int, sqlite_journal: str, settle_s: float
) -> tuple[dict[str, Any], dict]:
    """Every scenario with a writer, and the scale curve; returns figures and plot series."""
    dialect = url.get_backend_name()
    engine = database.engine_for(url)
    try:
        ids = await database.seed(engine, rows, sqlite_journal)

        database.progress(f"{dialect}: backfill as one UPDATE ...")
        await database.reset(engine)
        single = await scenarios.with_writer(
            url, ids, lambda: scenarios.single_update(engine), settle_s
        )
        database.progress(f"{dialect}: backfill in batches of {batch_size:,} ...")
        await database.reset(engine)
        batched = await scenarios.with_writer(
            url, ids, lambda: scenarios.batched_update(engine, batch_size), settle_s
        )

        index: dict[str, Any] = {}
        for label, concurrently in [("plain", False), ("concurrent", True)]:
            if concurrently and dialect == "sqlite":  # SQLite has only the plain build
                index.update({f"index_{label}_s": None, f"index_{label}_writer_max_ms": None})
                continue
            database.progress(f"{dialect}: CREATE INDEX ({label}) ...")
            await database.reset(engine)
            built = await scenarios.with_writer(
                url, ids, lambda c=concurrently: scenarios.create_index(engine, c), settle_s
            )
            index[f"index_{label}_s"] = round(built.seconds, 3)
            for key, value in report.writer_figures(built.writes, label).items():
                index[f"index_{label}_{key.replace(f'_{label}', '')}"] = value

        per_row: dict[str, float] = {}
        for size in sorted({s for s in SCALE_SIZES if s <= rows} | {rows}):
            database.progress(f"{dialect}: batched backfill of {size:,} rows ...")
            await database.reset(engine, size)
            started = time.perf_counter()
            await scenarios.batched_update(engine, batch_size)
            per_row[str(size)] = round((time.perf_counter() - started) / size * 1e6, 2)
    finally:
        await engine.dispose()

    backfill = {
        "backfill_single_s": round(single.seconds, 3),
        "backfill_batched_s": round(batched.seconds, 3),
        "batched_vs_single": round(batched.seconds / single.seconds, 2),
        **report.writer_figures(single.writes, "single"),
        **report.writer_figures(batched.writes, "batched"),
    }
    figures = {
        "rows": rows,
        "batch_size": batch_size,
        "id_distribution": "random uuid4 strings, stored in random order",
        "backfill": backfill,
        "index": index,
        "scale": {"per_row_us": per_row},
    }
    series = {
        f"single UPDATE ({single.seconds:.1f}s)": relative(single),
        f"batched ({batched.seconds:.1f}s)": relative(batched),
    }
    return figures, series


def full_run(url: URL) -> dict[str, float]:
    """`alembic upgrade head` then `downgrade base` through the CLI, on an empty database."""
    return {
        "upgrade_head_s": round(scenarios.alembic_seconds(url, "upgrade", "head"), 3),
        "downgrade_base_s": round(scenarios.alembic_seconds(url, "downgrade", "base"), 3),
    }


def run_dialect(
    dialect: str, rows: int, batch_size: int, sqlite_journal: str, settle_s: float
) -> tuple[dict[str, Any], dict]:
    with database.database_server(dialect) as (new_database, version):
        with new_database() as url:
            figures, series = asyncio.run(measure(url, rows, batch_size, sqlite_journal, settle_s))
        database.progress(f"{dialect}: alembic upgrade head / downgrade base ...")
        with new_database() as url:
            figures["full_run"] = full_run(url)
    figures["server_version"] = version
    if dialect == "sqlite":
        figures["sqlite_journal"] = sqlite_journal
    if dialect == "postgresql":
        figures["targets"] = report.targets(figures)
    return figures, series


def relative(measured: scenarios.Measured) -> list[tuple[float, float]]:
    begin = measured.window[0]
    return [(w.started_s - begin, w.latency_ms) for w in measured.all_writes]


def output_folder(args: argparse.Namespace) -> Path:
    """Where results go: a smoke run never overwrites the figures the docs cite."""
    if args.output is not None:
        return args.output
    return Path(tempfile.mkdtemp(prefix="bench-quick-")) if args.quick else RESULTS_DIR


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    postgres.interrupt_on_stop_signals()
    try:
        return run(args, argv)
    except KeyboardInterrupt:
        print("bench/run.py: interrupted; no results written, server removed", file=sys.stderr)
        return 130


def run(args: argparse.Namespace, argv: list[str] | None) -> int:
    """Measure each dialect, then write the results and say where they are."""
    dialects = [args.dialect] if args.dialect else ["postgresql", "sqlite"]
    results: dict[str, Any] = {
        "command": shlex.join(
            ["python", "bench/run.py", *(argv if argv is not None else sys.argv[1:])]
        ),
        "machine": (
            f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}"
        ),
        "dialects": {},
    }
    plotted: dict[str, dict] = {}
    for dialect in dialects:
        rows = QUICK_ROWS if args.quick else (args.rows or DEFAULT_ROWS[dialect])
        settle_s = scenarios.QUICK_SETTLE_S if args.quick else scenarios.SETTLE_S
        figures, series = run_dialect(dialect, rows, args.batch_size, args.sqlite_journal, settle_s)
        results["dialects"][dialect] = figures
        plotted[dialect] = series
    output = output_folder(args)
    table = report.write_outputs(results, output)
    print(table)
    dialect = "postgresql" if "postgresql" in plotted else dialects[0]
    rows = results["dialects"][dialect]["rows"]
    written = ["latest.md", "latest.json"]
    if report.plot(
        plotted[dialect],
        output / "writer_latency.png",
        f"Writer latency during a {rows:,}-row backfill ({dialect})",
    ):
        written.append("writer_latency.png")
    database.progress(f"results: {', '.join(written)} in {output.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
