r"""How often check_migrations.py's errors are right, and how fast it is, on real projects.

    python bench/checker_corpus.py CORPUS [--runs N] [--sheet FILE] [--verdicts FILE]
                                          [--seed N] [--per-rule N] [--output DIR]
                                          [--format json]

An error finding fails a user's CI, so a rule that is often wrong teaches
people to suppress it. Fixtures show a rule fires where it should; only
revisions written by other people show how often it fires where it should
not. CORPUS holds one folder per project, each with that project's revision
files below it (see "Checker precision corpus" below).

What it does:
  1. Runs the checker once over every project folder, in one process
     (cwd CORPUS, so each finding's file starts with its project's name),
     --runs times. The slowest run is held against a 3 s target. A run that
     exits 2 (an unreadable or unparseable file) or prints a traceback is
     reported with its error lines and fails the checker_ran target, as does a
     run whose findings differ from the first run's.
  2. Counts findings per rule, errors and warnings apart, per project and in
     total, and the files with at least one error.
  3. Samples the error findings: for each rule, random.Random(--seed).sample
     of at most --per-rule of its findings, taken in (file, line, message)
     order. A fresh generator per rule keeps one rule's sample from moving
     when another rule gains or loses findings. Each sampled finding has the
     key file:line:rule. --sheet writes them as Markdown, each with its
     message and seven lines of code, so a person can judge it there.
  4. Reads the judgements from --verdicts (CSV: key,verdict,reason; verdict
     is tp or fp; lines starting with # are comments) and computes precision
     (tp / judged) per rule and overall. Rows whose key is not in the current
     sample are ignored and counted as stale.

Targets: slowest run at most 3 s; the checker runs cleanly; at least 60
sampled errors; every sampled error judged; overall precision at least 90%;
at least 75% for every rule with a sampled error.

Output: a summary on stdout (the JSON document with --format json), the
same figures in DIR/checker_corpus.json, and `results: PATH` on stderr.
Exit codes: 0 every target met, 1 a target not met, 2 a usage or input
error (one line on stderr).

## Checker precision corpus

Revision files from four public projects, taken with `git archive` from one
commit each; each project folder keeps the repository's own paths:

  project   repository         commit                                    folders (revision files)
  ctfd      CTFd/CTFd          91ced62d44d3ec3142a0948ee96ed19947cfc979  migrations/versions (33)
  redash    getredash/redash   ca79fe988d81cdac9675b412f3dfcab107bc1fbc  migrations/versions (27)
  prefect   PrefectHQ/prefect  ce79dd3d6cfa2b7337265498210dbc4d25bcdc98  PF/postgresql (116),
                                                                         PF/sqlite (112)
  dispatch  Netflix/dispatch   dd2837e82a0bf5565b1b4b4b91ea30b7262d4061  DR/core/versions (9),
                                                                         DR/tenant/versions (153)

  PF = src/prefect/server/database/_migrations/versions
  DR = src/dispatch/database/revisions

CTFd is a Flask CTF platform, Redash a BI tool, Prefect a workflow engine
with separate PostgreSQL and SQLite histories, Dispatch a multi-tenant
incident manager: 450 files in all. The corpus is not part of this
repository. To rebuild it (each commit is on its project's default branch):

  mkdir -p corpus/ctfd corpus/redash corpus/prefect corpus/dispatch clones
  git clone https://github.com/CTFd/CTFd.git clones/CTFd
  git -C clones/CTFd archive 91ced62d44d3ec3142a0948ee96ed19947cfc979 \
      migrations/versions | tar -x -C corpus/ctfd
  git clone https://github.com/getredash/redash.git clones/redash
  git -C clones/redash archive ca79fe988d81cdac9675b412f3dfcab107bc1fbc \
      migrations/versions | tar -x -C corpus/redash
  git clone https://github.com/PrefectHQ/prefect.git clones/prefect
  git -C clones/prefect archive ce79dd3d6cfa2b7337265498210dbc4d25bcdc98 \
      src/prefect/server/database/_migrations/versions/postgresql \
      src/prefect/server/database/_migrations/versions/sqlite | tar -x -C corpus/prefect
  git clone https://github.com/Netflix/dispatch.git clones/dispatch
  git -C clones/dispatch archive dd2837e82a0bf5565b1b4b4b91ea30b7262d4061 \
      src/dispatch/database/revisions/core/versions \
      src/dispatch/database/revisions/tenant/versions | tar -x -C corpus/dispatch
  python bench/checker_corpus.py corpus --sheet sample_sheet.md

The git clone lines have not been run: GitHub was not reachable where this
was written. The git archive lines, run on stored copies of the four
repositories, reproduce the corpus file for file.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import random
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

PROJECT_DIR = Path(__file__).resolve().parent.parent
CHECKER = PROJECT_DIR / "scripts" / "check_migrations.py"
DEFAULT_VERDICTS = PROJECT_DIR / "bench" / "checker_verdicts.csv"
DEFAULT_OUTPUT = PROJECT_DIR / "bench" / "results"
RESULTS_NAME = "checker_corpus.json"

TARGET_S = 3.0
TARGET_OVERALL = 0.90
TARGET_PER_RULE = 0.75
MIN_SAMPLED = 60
CONTEXT_LINES = 3
CHECKER_TIMEOUT_S = 600
SEVERITIES = ("error", "warning")
VERDICT_VALUES = ("tp", "fp")
VERDICT_COLUMNS = ["key", "verdict", "reason"]
FINDING_KEYS = {"file", "line", "rule", "severity", "message"}
TRACEBACK = "Traceback (most recent call last):"
MISSING_SHOWN = 20  # missing verdicts listed in the text summary; the JSON has all

Finding = dict[str, Any]


class UsageError(Exception):
    """Bad arguments or input: one line on stderr and exit 2, never a traceback."""


class Parser(argparse.ArgumentParser):
    """argparse, but its errors are one line like every other input error here."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def positive_int(text: str) -> int:
    """--runs and --per-rule: zero runs or an empty sample measure nothing."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def build_parser() -> Parser:
    """The options; --help shows this file's docstring, the corpus included."""
    summary, _, details = (__doc__ or "").partition("\n\n")
    parser = Parser(
        prog="checker_corpus.py",
        description=summary,
        epilog=details,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("corpus", type=Path, metavar="CORPUS", help="one subfolder per project")
    parser.add_argument(
        "--runs",
        type=positive_int,
        default=3,
        metavar="N",
        help="checker runs, for timing (default 3)",
    )
    parser.add_argument(
        "--sheet",
        type=Path,
        metavar="FILE",
        help="write the sampled errors, with code, to this Markdown file",
    )
    parser.add_argument(
        "--verdicts",
        type=Path,
        default=DEFAULT_VERDICTS,
        metavar="FILE",
        help="CSV of key,verdict,reason (default bench/checker_verdicts.csv)",
    )
    parser.add_argument(
        "--seed", type=int, default=2026, metavar="N", help="sampling seed (default 2026)"
    )
    parser.add_argument(
        "--per-rule",
        type=positive_int,
        default=8,
        metavar="N",
        help="errors sampled per rule (default 8)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        metavar="DIR",
        help="folder for checker_corpus.json (default bench/results)",
    )
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="stdout format (default text)"
    )
    return parser


# --- the corpus -------------------------------------------------------------------


def project_folders(corpus: Path) -> list[str]:
    """The project names: CORPUS's visible subfolders, in name order."""
    if not corpus.is_dir():
        reason = "no such directory" if not corpus.exists() else "not a directory"
        raise UsageError(f"corpus {corpus}: {reason}")
    names = sorted(p.name for p in corpus.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not names:
        raise UsageError(f"corpus {corpus}: no project folders in it")
    return names


def revision_files(folder: Path) -> int:
    """The files the checker reads in ``folder``: *.py but __init__.py and __pycache__."""
    return sum(
        1
        for path in folder.rglob("*.py")
        if path.name != "__init__.py" and "__pycache__" not in path.parts
    )


# --- running the checker ----------------------------------------------------------


@dataclass
class CheckerRun:
    """One run: its time, exit code, findings, and why it is unusable if it is."""

    seconds: float
    exit_code: int
    findings: list[Finding]
    errors: list[str]
    crashed: bool


def checker_command(projects: list[str]) -> list[str]:
    """The command run in CORPUS: every project in one process, as JSON."""
    return [sys.executable, str(CHECKER), "--format", "json", *projects]


def run_checker(corpus: Path, projects: list[str]) -> CheckerRun:
    """Time one run and read what it printed."""
    started = time.monotonic()
    try:
        result = subprocess.run(
            checker_command(projects),
            cwd=corpus,
            capture_output=True,
            text=True,
            timeout=CHECKER_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        seconds = time.monotonic() - started
        return CheckerRun(seconds, -1, [], [f"no answer after {CHECKER_TIMEOUT_S} s"], True)
    return read_run(result.returncode, result.stdout, result.stderr, time.monotonic() - started)


def read_run(exit_code: int, stdout: str, stderr: str, seconds: float) -> CheckerRun:
    """Findings from the checker's JSON; a traceback or unexpected output is a crash.

    An uncaught exception exits 1, as findings do, so stderr is what tells
    them apart. Exit 2 still lists the findings in the files it could read.
    """
    try:
        output: Any = json.loads(stdout)
    except json.JSONDecodeError:
        output = None
    findings: list[Finding] = []
    errors: list[str] = []
    crashed = TRACEBACK in stderr
    if exit_code in (0, 1) and isinstance(output, list):
        findings = output
    elif exit_code == 2 and isinstance(output, dict) and "error" in output:
        findings = output.get("findings") or []
        errors = [str(line) for line in output.get("errors") or [output["error"]]]
    else:
        crashed = True
    if not all(isinstance(f, dict) and f.keys() >= FINDING_KEYS for f in findings):
        crashed, findings = True, []
        errors.append(f"findings without the keys {', '.join(sorted(FINDING_KEYS))}")
    if crashed:
        said = stderr.strip().splitlines()[-20:]
        errors.extend(said or [f"exit {exit_code} and no output the checker documents"])
    return CheckerRun(seconds, exit_code, findings, errors, crashed)


# --- counting -------------------------------------------------------------------


def finding_key(finding: Finding) -> str:
    """The stable name a verdict refers to: file:line:rule."""
    return f"{finding['file']}:{finding['line']}:{finding['rule']}"


def finding_order(finding: Finding) -> tuple[str, int, str]:
    """Findings are sampled from, and shown in, (file, line, message) order."""
    return (str(finding["file"]), int(finding["line"]), str(finding["message"]))


def project_of(finding: Finding) -> str:
    """The project a finding belongs to: the first part of its path below CORPUS."""
    return Path(str(finding["file"])).parts[0]


def severity_counts(findings: list[Finding]) -> dict[str, int]:
    """Errors and warnings (and any other severity the checker gains) apart."""
    counts = Counter(str(f["severity"]) for f in findings)
    return {severity: counts.get(severity, 0) for severity in SEVERITIES} | dict(counts)


def count_findings(findings: list[Finding], projects: list[str]) -> dict[str, Any]:
    """Per rule and per project, errors and warnings apart, and in total."""
    rules = sorted({str(f["rule"]) for f in findings})
    return {
        "total": severity_counts(findings),
        "by_project": {
            project: severity_counts([f for f in findings if project_of(f) == project])
            for project in projects
        },
        "by_rule": {
            rule: {
                **severity_counts([f for f in findings if f["rule"] == rule]),
                "by_project": {
                    project: severity_counts(
                        [f for f in findings if f["rule"] == rule and project_of(f) == project]
                    )
                    for project in projects
                },
            }
            for rule in rules
        },
    }


def files_with_errors(findings: list[Finding], projects: list[str]) -> dict[str, int]:
    """How many files have at least one error, per project and in total."""
    files = {str(f["file"]) for f in findings if f["severity"] == "error"}
    counts = {
        project: sum(1 for file in files if Path(file).parts[0] == project) for project in projects
    }
    return counts | {"total": len(files)}


# --- sampling -------------------------------------------------------------------


def draw_sample(findings: list[Finding], seed: int, per_rule: int) -> dict[str, list[Finding]]:
    """At most ``per_rule`` error findings per rule, the same ones for the same findings.

    Two findings with one key (same file, line and rule) are one sample unit,
    since a verdict can only name the key.
    """
    by_rule: dict[str, dict[str, Finding]] = {}
    for finding in sorted((f for f in findings if f["severity"] == "error"), key=finding_order):
        by_rule.setdefault(str(finding["rule"]), {}).setdefault(finding_key(finding), finding)
    sample: dict[str, list[Finding]] = {}
    for rule in sorted(by_rule):
        population = list(by_rule[rule].values())
        picked = random.Random(seed).sample(population, min(per_rule, len(population)))
        sample[rule] = sorted(picked, key=finding_order)
    return sample


# --- verdicts -------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """One person's judgement of one sampled finding."""

    verdict: str
    reason: str


def read_verdicts(path: Path) -> dict[str, Verdict]:
    """key -> verdict from the CSV; a malformed row is an input error naming its line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise UsageError(f"verdicts {path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise UsageError(f"verdicts {path}: not UTF-8 text") from None
    verdicts: dict[str, Verdict] = {}
    lines_of: dict[str, int] = {}
    header_seen = False
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells = [cell.strip() for cell in next(csv.reader([line]))]
        where = f"verdicts {path}:{number}"
        if not header_seen:
            if cells != VERDICT_COLUMNS:
                raise UsageError(f"{where}: the first row must be {','.join(VERDICT_COLUMNS)}")
            header_seen = True
            continue
        if len(cells) not in (2, 3) or not cells[0]:
            raise UsageError(
                f"{where}: want key,verdict,reason (quote a reason with commas in it), "
                f"not {line.strip()!r}"
            )
        key, verdict, reason = cells[0], cells[1].lower(), cells[2] if len(cells) == 3 else ""
        if verdict not in VERDICT_VALUES:
            raise UsageError(f"{where}: verdict must be tp or fp, not {cells[1]!r}")
        if key in verdicts:
            raise UsageError(f"{where}: {key} is judged already on line {lines_of[key]}")
        verdicts[key], lines_of[key] = Verdict(verdict, reason), number
    if not header_seen:
        raise UsageError(f"verdicts {path}: no header row {','.join(VERDICT_COLUMNS)}")
    return verdicts


def precision(tp: int, fp: int) -> float | None:
    """tp / judged, or None when nothing is judged."""
    return tp / (tp + fp) if tp + fp else None


def judge(
    sample: dict[str, list[Finding]],
    verdicts: dict[str, Verdict],
    by_rule: dict[str, Any],
) -> dict[str, Any]:
    """Precision per rule and overall over the sampled findings that have a verdict."""
    rows: dict[str, dict[str, Any]] = {}
    for rule, picked in sample.items():
        said = [verdicts[finding_key(f)].verdict for f in picked if finding_key(f) in verdicts]
        tp, fp = said.count("tp"), said.count("fp")
        rows[rule] = {
            "errors": by_rule[rule]["error"],
            "sampled": len(picked),
            "tp": tp,
            "fp": fp,
            "precision": precision(tp, fp),
        }
    tp = sum(row["tp"] for row in rows.values())
    fp = sum(row["fp"] for row in rows.values())
    return {"overall": precision(tp, fp), "tp": tp, "fp": fp, "judged": tp + fp, "by_rule": rows}


# --- targets --------------------------------------------------------------------


def percent(value: float | None) -> str:
    """A precision for people: 87.5%, or n/a when nothing is judged."""
    return "n/a" if value is None else f"{value:.1%}"


def assess(
    runs: list[CheckerRun],
    sampled: int,
    missing: list[str],
    figures: dict[str, Any],
) -> dict[str, dict[str, Any]]:
    """Each target: met or not, and one line saying why."""
    slowest, fastest = max(r.seconds for r in runs), min(r.seconds for r in runs)
    unusable = [i for i, run in enumerate(runs, 1) if run.crashed or run.exit_code == 2]
    differing = [i for i, run in enumerate(runs[1:], 2) if run.findings != runs[0].findings]
    if unusable:
        run = runs[unusable[0] - 1]
        what = "crashed" if run.crashed else "exit 2 (unusable input)"
        checker = f"{what} on run {', '.join(map(str, unusable))} of {len(runs)}"
    elif differing:
        counts = ", ".join(f"run {i} {len(runs[i - 1].findings)}" for i in [1, *differing])
        checker = f"findings differ between runs (the checker changed?): {counts} findings"
    else:
        codes = sorted({run.exit_code for run in runs})
        checker = f"exit {'/'.join(map(str, codes))}, no crash, same findings each run"
    rules = figures["by_rule"]
    unjudged = [rule for rule, row in rules.items() if row["precision"] is None]
    below = [
        rule
        for rule, row in rules.items()
        if row["precision"] is not None and row["precision"] < TARGET_PER_RULE
    ]
    passing = len(rules) - len(unjudged) - len(below)
    rule_detail = f"{passing} of {len(rules)} sampled rules at {TARGET_PER_RULE:.0%} or more"
    if below:
        rule_detail += f"; below: {', '.join(below)}"
    if unjudged:
        names = ", ".join(unjudged) if len(unjudged) <= 5 else f"{len(unjudged)} rules"
        rule_detail += f"; nothing judged for {names}"
    return {
        "checker_time": {
            "met": slowest <= TARGET_S,
            "detail": f"slowest {slowest:.2f} s, fastest {fastest:.2f} s of {len(runs)} "
            f"run{'s' if len(runs) != 1 else ''}; target {TARGET_S:g} s",
        },
        "checker_ran": {"met": not unusable and not differing, "detail": checker},
        "sampled_errors": {
            "met": sampled >= MIN_SAMPLED,
            "detail": f"{sampled} sampled; target at least {MIN_SAMPLED}",
        },
        "all_judged": {
            "met": not missing,
            "detail": f"{sampled - len(missing)} of {sampled} sampled errors judged",
        },
        "overall_precision": {
            "met": figures["overall"] is not None and figures["overall"] >= TARGET_OVERALL,
            "detail": f"{percent(figures['overall'])} ({figures['tp']} tp of "
            f"{figures['judged']} judged); target {TARGET_OVERALL:.0%}",
        },
        "rule_precision": {
            "met": not below and not unjudged and bool(rules),
            "detail": rule_detail,
        },
    }


# --- output ---------------------------------------------------------------------


def table(rows: list[list[str]]) -> list[str]:
    """Columns padded to their widest cell: the first left-aligned, the rest right."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


def text_report(document: dict[str, Any], runs: list[CheckerRun]) -> list[str]:
    """The summary for people: counts, precision, what is missing, each target."""
    projects: list[str] = document["projects"]
    files = document["revision_files"]
    counts = document["findings"]
    lines = [
        f"corpus {document['corpus']}: {len(projects)} projects, {files['total']} revision files "
        f"({', '.join(f'{p} {files[p]}' for p in projects)})",
        f"checker runs: {', '.join(f'{s:.2f}' for s in document['timing']['seconds'])} s",
    ]
    for number, run in enumerate(runs, 1):
        if run.errors:
            lines.append(f"run {number}: exit {run.exit_code}{', crashed' if run.crashed else ''}:")
            lines.extend(f"    {error}" for error in run.errors)

    def pair(c: dict[str, int]) -> str:
        return f"{c['error']}/{c['warning']}"

    rows = [["findings (errors/warnings)", *projects, "total"]]
    for rule, row in counts["by_rule"].items():
        rows.append([rule, *(pair(row["by_project"][p]) for p in projects), pair(row)])
    rows.append(
        ["all rules", *(pair(counts["by_project"][p]) for p in projects), pair(counts["total"])]
    )
    with_errors = document["files_with_errors"]
    rows.append(
        [
            "files with an error",
            *(f"{with_errors[p]}/{files[p]}" for p in projects),
            f"{with_errors['total']}/{files['total']}",
        ]
    )
    lines += ["", *table(rows)]

    sample, figures = document["sample"], document["precision"]
    rows = [
        [
            f"sampled errors (seed {sample['seed']}, at most {sample['per_rule']} per rule)",
            "errors",
            "sampled",
            "tp",
            "fp",
            "precision",
        ]
    ]
    for rule, row in figures["by_rule"].items():
        rows.append(
            [
                rule,
                *map(str, (row["errors"], row["sampled"], row["tp"], row["fp"])),
                percent(row["precision"]),
            ]
        )
    rows.append(
        [
            "all rules",
            str(counts["total"]["error"]),
            str(sample["size"]),
            str(figures["tp"]),
            str(figures["fp"]),
            percent(figures["overall"]),
        ]
    )
    lines += ["", *table(rows), ""]

    verdicts = document["verdicts"]
    missing: list[str] = verdicts["missing"]
    if missing:
        lines.append(f"{len(missing)} sampled errors have no verdict in {verdicts['file']}:")
        lines.extend(f"    {key}" for key in missing[:MISSING_SHOWN])
        if len(missing) > MISSING_SHOWN:
            lines.append(f"    ... and {len(missing) - MISSING_SHOWN} more (all in the JSON)")
    lines.append(f"{verdicts['stale']} stale verdicts (keys not in this sample) ignored")
    lines.append("")
    for name, target in document["targets"].items():
        lines.append(f"{name}: {target['detail']}: {'met' if target['met'] else 'NOT MET'}")
    return lines


def excerpt(corpus: Path, finding: Finding, cache: dict[str, list[str]]) -> str:
    """The finding's line and CONTEXT_LINES either side, numbered, the line marked."""
    file = str(finding["file"])
    if file not in cache:
        try:
            cache[file] = (corpus / file).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError as exc:
            cache[file] = []
            return f"(cannot read {file}: {exc.strerror})"
    text, line = cache[file], int(finding["line"])
    if not 1 <= line <= len(text):
        return f"(line {line} is not in {file}, which has {len(text)} lines)"
    first, last = max(1, line - CONTEXT_LINES), min(len(text), line + CONTEXT_LINES)
    width = len(str(last))
    return "\n".join(
        f"{'>' if number == line else ' '} {number:>{width}}  {text[number - 1]}".rstrip()
        for number in range(first, last + 1)
    )


def fenced(code: str) -> str:
    """A code block whose fence is longer than any backtick run inside it."""
    longest = run = 0
    for char in code:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    fence = "`" * max(3, longest + 1)
    return f"{fence}python\n{code}\n{fence}"


def sampling_sheet(
    corpus: Path,
    document: dict[str, Any],
    sample: dict[str, list[Finding]],
    verdicts: dict[str, Verdict],
) -> str:
    """Markdown a person can judge every sampled error from, without opening a file."""
    info = document["sample"]
    parts = [
        "# Checker precision: sampled errors",
        "",
        f"Corpus `{corpus}` ({', '.join(document['projects'])}); seed {info['seed']}, at most "
        f"{info['per_rule']} per rule: {info['size']} of {document['findings']['total']['error']} "
        "error findings.",
        "",
        "For each one, decide whether the error is right about this code (`tp`) or wrong "
        f"(`fp`), and add a row `key,verdict,reason` to `{document['verdicts']['file']}`.",
    ]
    cache: dict[str, list[str]] = {}
    for rule, picked in sample.items():
        errors = document["findings"]["by_rule"][rule]["error"]
        parts += ["", f"## {rule} ({len(picked)} sampled of {errors} errors)"]
        for finding in picked:
            key = finding_key(finding)
            verdict = verdicts.get(key)
            said = (
                f"{verdict.verdict}{f' ({verdict.reason})' if verdict.reason else ''}"
                if verdict
                else "not judged yet"
            )
            parts += [
                "",
                f"### `{key}`",
                "",
                str(finding["message"]),
                "",
                f"Verdict: {said}",
                "",
                fenced(excerpt(corpus, finding, cache)),
            ]
    return "\n".join(parts) + "\n"


def write(path: Path, text: str) -> None:
    """Write a result file; a folder that cannot take it is an input error."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path} ({exc.strerror})") from None


# --- main -----------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Exit code: 0 every target met, 1 one not met, 2 a usage or input error."""
    try:
        return measure(argv)
    except UsageError as error:
        print(f"checker_corpus.py: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("checker_corpus.py: interrupted; no results written", file=sys.stderr)
        return 130


def measure(argv: list[str] | None) -> int:
    """Run, count, sample, judge; write the figures and say where they went."""
    args = build_parser().parse_args(argv)
    corpus = args.corpus.resolve()
    projects = project_folders(args.corpus)
    verdicts = read_verdicts(args.verdicts)

    runs = [run_checker(corpus, projects) for _ in range(args.runs)]
    findings = runs[0].findings
    counts = count_findings(findings, projects)
    sample = draw_sample(findings, args.seed, args.per_rule)
    keys = [finding_key(f) for picked in sample.values() for f in picked]
    missing = [key for key in keys if key not in verdicts]
    stale = sum(1 for key in verdicts if key not in set(keys))
    figures = judge(sample, verdicts, counts["by_rule"])
    targets = assess(runs, len(keys), missing, figures)
    seconds = [run.seconds for run in runs]
    files = {project: revision_files(corpus / project) for project in projects}

    document: dict[str, Any] = {
        "corpus": str(corpus),
        "projects": projects,
        "command": checker_command(projects),
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "runs": args.runs,
        "timing": {
            "seconds": [round(s, 3) for s in seconds],
            "slowest_s": round(max(seconds), 3),
            "fastest_s": round(min(seconds), 3),
            "target_s": TARGET_S,
            "met": targets["checker_time"]["met"],
        },
        "checker": {
            "exit_codes": [run.exit_code for run in runs],
            "crashed": any(run.crashed for run in runs),
            "errors": [error for run in runs for error in run.errors],
            "met": targets["checker_ran"]["met"],
        },
        "revision_files": files | {"total": sum(files.values())},
        "files_with_errors": files_with_errors(findings, projects),
        "findings": counts,
        "sample": {
            "seed": args.seed,
            "per_rule": args.per_rule,
            "size": len(keys),
            "keys": keys,
            "by_rule": {rule: [finding_key(f) for f in picked] for rule, picked in sample.items()},
        },
        "verdicts": {
            "file": str(args.verdicts),
            "judged": figures["judged"],
            "missing": missing,
            "stale": stale,
        },
        "precision": figures,
        "targets": targets,
        "met": all(target["met"] for target in targets.values()),
    }

    if args.sheet:
        write(args.sheet, sampling_sheet(corpus, document, sample, verdicts))
    written = args.output / RESULTS_NAME
    write(written, json.dumps(document, indent=2) + "\n")
    if args.format == "json":
        print(json.dumps(document, indent=2))
    else:
        print("\n".join(text_report(document, runs)))
    if args.sheet:
        print(f"sheet: {args.sheet.resolve()}", file=sys.stderr)
    print(f"results: {written.resolve()}", file=sys.stderr)
    return 0 if document["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
