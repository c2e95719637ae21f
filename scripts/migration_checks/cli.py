"""Command line: arguments, running the layers, output and exit codes."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from .history import UnknownRevision
from .model import RULES, Finding, InputError, display_path, doc_path
from .rules import CheckRun, check_revisions
from .source import (
    RevisionSource,
    collect_paths,
    folders_below,
    load_revision,
)
from .suppress import apply_suppressions, read_suppressions

EXIT_CLEAN, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2
# Room for a few thousand nested calls: a chain of helpers, each walked in turn.
DEEP_RECURSION = 20_000
DEEP_STACK_BYTES = 256 * 1024 * 1024

DESCRIPTION = """\
Check Alembic revision files for operations that lock or break a production
PostgreSQL database. PATH is a versions directory or revision files; the
default is the versions directory named by ./alembic.ini or the
[tool.alembic] table of ./pyproject.toml.

Exit codes: 0 no error findings (warnings alone pass), 1 error findings,
2 usage error or a file that cannot be read or parsed (stdout is then empty,
or with --format json an object with an "error" key).

Suppress one finding with a comment on its line or the line above:
    # check: ignore[RULE-ID] why this is safe here
Each rule is explained in references/checks.md#RULE-ID, in this skill's folder."""


def rules_epilog() -> str:
    """The rule list shown by --help: id, severity and one line of summary."""
    lines = ["rules:"]
    for rule in RULES:
        head = f"  {rule.id:<32} {rule.severity:<8} "
        wrapped = textwrap.wrap(rule.summary, width=95 - len(head))
        lines.append(head + wrapped[0])
        lines.extend(" " * len(head) + more for more in wrapped[1:])
    lines.append(
        "  squawk:<rule>                    (--sql)  squawk's own rules on the rendered SQL; "
        "severity from squawk"
    )
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """Arguments; the epilog lists every rule so --help is the rule index."""
    parser = argparse.ArgumentParser(
        prog="check_migrations.py",
        description=DESCRIPTION,
        epilog=rules_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="versions directory or .py files")
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default text)"
    )
    parser.add_argument(
        "--sql",
        action="store_true",
        help="also render each revision's PostgreSQL SQL offline with alembic and lint it with "
        "squawk (found via $SQUAWK_BIN, next to this Python, or on PATH)",
    )
    parser.add_argument(
        "--squawk-timeout-rules",
        action="store_true",
        help="keep squawk's require-lock-timeout/require-statement-timeout (off by default: "
        "env.py sets both timeouts on the connection)",
    )
    parser.add_argument(
        "--since",
        metavar="REV",
        help="the revision production runs (id or unique prefix): tables created by the "
        "revisions after it are new, so the lock rules leave them alone",
    )
    parser.add_argument("--list-rules", action="store_true", help="print the rules and exit")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the checker; the return value is the process exit code.

    Revisions can nest helper calls deeply; the walk runs in a thread with room
    for that, so a deep but valid file is checked rather than reported unusable.
    """
    outcome: list[int] = []
    failure: list[BaseException] = []

    def work() -> None:
        try:
            outcome.append(run(argv))
        except BaseException as exc:  # re-raised in the main thread: SystemExit from argparse
            failure.append(exc)

    sys.setrecursionlimit(max(sys.getrecursionlimit(), DEEP_RECURSION))
    threading.stack_size(DEEP_STACK_BYTES)
    worker = threading.Thread(target=work, name="check-migrations")
    worker.start()
    worker.join()
    if failure:
        raise failure[0]
    return outcome[0]


def run(argv: Sequence[str] | None) -> int:
    """Parse the arguments, check, print; the exit code."""
    args = build_parser().parse_args(argv)
    if args.list_rules:
        print_rules(args.format)
        return EXIT_CLEAN
    sources, input_errors = load_inputs(args.paths, Path.cwd())
    sqlite_files = 0
    try:
        findings, checked = check_all(sources, args.sql, args.squawk_timeout_rules, args.since)
        input_errors.extend(checked.errors)
        sqlite_files = len(checked.sqlite_only)
    except UnknownRevision as error:
        input_errors.append(InputError(f"--since {args.since}", 0, str(error)))
        findings = []
    if input_errors:
        report_unusable_input(input_errors, findings, args.format, len(sources))
        return EXIT_INPUT
    print_findings(findings, args.format, len(sources), sys.stdout, sqlite_files)
    return EXIT_FINDINGS if any(f.severity == "error" for f in findings) else EXIT_CLEAN


def report_unusable_input(
    errors: list[InputError], findings: list[Finding], output: str, file_count: int
) -> None:
    """Exit 2 must never look like a pass to whoever reads stdout.

    Text: the errors and any findings in the usable files go to stderr and
    stdout stays empty. JSON: stdout is an object with an ``error`` key, never
    the list a clean or failing run prints.
    """
    lines = [format_input_error(error) for error in errors]
    for line in lines:
        print(line, file=sys.stderr)
    if output == "json":
        report = {
            "error": lines[0] if len(lines) == 1 else f"{len(lines)} unusable inputs",
            "errors": lines,
            "findings": [finding.to_json() for finding in findings],
        }
        print(json.dumps(report, indent=2))
    elif findings:
        print_findings(findings, output, file_count, sys.stderr)


def check_all(
    sources: list[RevisionSource], sql: bool, timeout_rules: bool, since: str | None = None
) -> tuple[list[Finding], CheckRun]:
    """AST rules, then the optional SQL layer, then suppressions, sorted by place.

    The run also says which files the rules could not follow, and which are SQLite-only.
    """
    checked = check_revisions(sources, since)
    findings = checked.findings
    linted: set[str] = set()
    if sql:
        from .sql_layer import run_sql_layer

        result = run_sql_layer(sources, timeout_rules)
        for finding in result.findings:
            findings[finding.file].append(finding)
        for note in result.notes:
            print(note, file=sys.stderr)
        linted = result.linted
    kept = [
        finding
        for source in sources
        for finding in apply_suppressions(
            findings[source.display],
            read_suppressions(source.text),
            source.display,
            source.display in linted,
        )
    ]
    return sorted(kept, key=lambda f: (f.file, f.line, f.rule)), checked


def load_inputs(arguments: list[str], cwd: Path) -> tuple[list[RevisionSource], list[InputError]]:
    """Parse every revision; collect input errors instead of stopping at the first."""
    errors: list[InputError] = []
    sources: list[RevisionSource] = []
    seen: set[Path] = set()
    # No argument means one root: the default from ./alembic.ini.
    for roots in [[root] for root in arguments] or [[]]:
        try:
            paths = collect_paths(roots, cwd)
        except InputError as error:
            errors.append(error)
            continue
        for root, path in paths:
            if path.resolve() in seen:
                continue
            seen.add(path.resolve())
            try:
                display = display_path(path, cwd)
                sources.append(load_revision(path, display, folders_below(root, path)))
            except InputError as error:
                errors.append(error)
    return sources, errors


def format_input_error(error: InputError) -> str:
    """``file:line: error: reason``, or ``file: error: reason`` when no line applies."""
    location = f"{error.file}:{error.line}" if error.line else error.file
    return f"{location}: error: {error.reason}"


def print_findings(
    findings: list[Finding], output: str, file_count: int, out: TextIO, sqlite_files: int = 0
) -> None:
    """JSON list, or one line per finding plus its fix and a summary line."""
    if output == "json":
        print(json.dumps([finding.to_json() for finding in findings], indent=2), file=out)
        return
    for finding in findings:
        print(
            f"{finding.file}:{finding.line}: {finding.severity} {finding.rule}: {finding.message}",
            file=out,
        )
        print(f"    fix: {finding.fix}", file=out)
    errors = sum(1 for finding in findings if finding.severity == "error")
    warnings = len(findings) - errors
    checked = f"{file_count} revision file{'s' if file_count != 1 else ''}"
    if sqlite_files:
        checked += f" ({sqlite_files} SQLite-only: PostgreSQL lock rules skipped)"
    if findings:
        print(f"{errors} error(s), {warnings} warning(s) in {checked}; see {doc_path()}", file=out)
    else:
        print(f"No findings in {checked}.", file=out)


def print_rules(output: str) -> None:
    """--list-rules: the registry, for people (text) and for tests and tools (json)."""
    if output == "json":
        rows = [
            {
                "rule": rule.id,
                "severity": rule.severity,
                "layer": rule.layer,
                "summary": rule.summary,
            }
            for rule in RULES
        ]
        print(json.dumps(rows, indent=2))
        return
    for rule in RULES:
        print(f"{rule.id}\t{rule.severity}\t{rule.summary}")
