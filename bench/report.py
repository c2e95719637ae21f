"""Turn measurements into figures, a markdown table, JSON and a latency plot."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

from writer import Write

SLOW_WRITE_MS = 100.0

# Targets for PostgreSQL (1M rows, 2 cores); "flat" per-row cost is read as a
# spread of at most 1.5x between the smallest and the largest size.
TARGETS = {
    "batched_vs_single": ("batched backfill time / single UPDATE time", 1.5),
    "writer_max_batched_ms": ("writer max stall during batched backfill (ms)", 200.0),
    "index_concurrent_writer_max_ms": (
        "writer max stall during CREATE INDEX CONCURRENTLY (ms)",
        200.0,
    ),
    "per_row_spread": ("largest / smallest per-row cost across sizes", 1.5),
}


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1)]


def writer_figures(writes: list[Write], label: str) -> dict[str, float | int]:
    latencies = [w.latency_ms for w in writes]
    return {
        f"writer_p50_{label}_ms": round(percentile(latencies, 50), 1),
        f"writer_p99_{label}_ms": round(percentile(latencies, 99), 1),
        f"writer_max_{label}_ms": round(max(latencies, default=0.0), 1),
        f"writer_slow_{label}": sum(1 for x in latencies if x > SLOW_WRITE_MS),
        f"writes_{label}": len(latencies),
    }


def targets(figures: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each target with its measured value and whether it was met.

    The targets are set for PostgreSQL only.
    """
    backfill, index, scale = figures["backfill"], figures["index"], figures["scale"]
    per_row = list(scale["per_row_us"].values())
    measured = {
        "batched_vs_single": backfill["batched_vs_single"],
        "writer_max_batched_ms": backfill["writer_max_batched_ms"],
        "index_concurrent_writer_max_ms": index["index_concurrent_writer_max_ms"],
        "per_row_spread": round(max(per_row) / min(per_row), 2) if per_row else None,
    }
    return {
        key: {
            "what": what,
            "limit": limit,
            "value": measured[key],
            "met": None if measured[key] is None else measured[key] <= limit,
        }
        for key, (what, limit) in TARGETS.items()
    }


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "# Migration benchmark",
        "",
        f"Machine: {results['machine']}. Command: `{results['command']}`.",
        "",
        "| dialect | rows | scenario | total s | writer p50 ms | p99 ms | max ms "
        "| writes > 100 ms |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for dialect, figures in results["dialects"].items():
        rows, backfill, index = figures["rows"], figures["backfill"], figures["index"]
        for label, name, seconds in [
            ("single", "backfill: single UPDATE", backfill["backfill_single_s"]),
            (
                "batched",
                f"backfill: batched ({figures['batch_size']:,})",
                backfill["backfill_batched_s"],
            ),
        ]:
            stats = " | ".join(
                str(backfill[f"writer_{stat}_{label}{unit}"])
                for stat, unit in [("p50", "_ms"), ("p99", "_ms"), ("max", "_ms"), ("slow", "")]
            )
            lines.append(f"| {dialect} | {rows:,} | {name} | {seconds:.2f} | {stats} |")
        for label, name in [("plain", "CREATE INDEX"), ("concurrent", "CREATE INDEX CONCURRENTLY")]:
            if index.get(f"index_{label}_s") is None:
                lines.append(f"| {dialect} | {rows:,} | {name} | n/a | | | | |")
                continue
            stats = " | ".join(
                str(index[f"index_{label}_writer_{stat}"])
                for stat in ["p50_ms", "p99_ms", "max_ms", "slow"]
            )
            seconds = index[f"index_{label}_s"]
            lines.append(f"| {dialect} | {rows:,} | {name} | {seconds:.2f} | {stats} |")
    lines += ["", "| dialect | scale: batched backfill rows | per-row µs |", "|---|---:|---:|"]
    for dialect, figures in results["dialects"].items():
        for size, cost in figures["scale"]["per_row_us"].items():
            lines.append(f"| {dialect} | {int(size):,} | {cost} |")
    lines += ["", "| dialect | full run | seconds |", "|---|---|---:|"]
    for dialect, figures in results["dialects"].items():
        for step, seconds in figures["full_run"].items():
            lines.append(f"| {dialect} | {step} | {seconds} |")
    lines += ["", "| dialect | target | limit | measured | met |", "|---|---|---:|---:|---|"]
    for dialect, figures in results["dialects"].items():
        for target in figures.get("targets", {}).values():
            met = {True: "yes", False: "**no**", None: "n/a"}[target["met"]]
            lines.append(
                f"| {dialect} | {target['what']} | {target['limit']} | {target['value']} | {met} |"
            )
    return "\n".join(lines) + "\n"


def plot(series: dict[str, list[tuple[float, float]]], path: Path, title: str) -> bool:
    """Writer latency over time, one line per backfill; False when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(
            "matplotlib is not installed: no latency plot (pip install -e '.[bench]')",
            file=sys.stderr,
        )
        return False
    figure, axes = plt.subplots(figsize=(9, 4.5))
    for label, points in series.items():
        axes.scatter([t for t, _ in points], [ms for _, ms in points], label=label, s=4)
    axes.set_yscale("log")
    axes.set_xlabel("seconds since the backfill started (when each write started)")
    axes.set_ylabel("write latency (ms, log scale)")
    axes.set_title(title)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return True


def write_outputs(results: dict[str, Any], out_dir: Path) -> str:
    out_dir.mkdir(parents=True, exist_ok=True)
    table = markdown(results)
    (out_dir / "latest.md").write_text(table)
    (out_dir / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    return table
