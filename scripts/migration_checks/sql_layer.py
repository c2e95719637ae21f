"""--sql: render each revision's PostgreSQL SQL offline and lint it with squawk.

Alembic is imported only here and only when --sql is given, so the AST layer
keeps running on a bare Python. Each revision's upgrade() runs against an
offline MigrationContext; every statement Alembic writes is tagged with the
revision line that was executing, so squawk's findings point at that line.
Squawk's rules are used as they are, never re-implemented.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from .model import SQUAWK_PREFIX, Finding, doc_path, make_finding
from .nodes import statement_spans
from .source import RevisionSource

# env.py sets lock_timeout and statement_timeout on the connection, which squawk
# cannot see in the rendered SQL, so these two would fire on every statement.
TIMEOUT_RULES = ("require-lock-timeout", "require-statement-timeout")
SQUAWK_DOCS = "https://squawkhq.com/docs/"


@dataclass
class SqlResult:
    """Findings from the SQL layer, one-line notes for stderr, and which files squawk read."""

    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    linted: set[str] = field(default_factory=set)


@dataclass
class Rendered:
    """One revision's upgrade SQL, the revision line behind each SQL line, and any failure."""

    source: RevisionSource
    lines: list[str] = field(default_factory=list)
    origins: list[int] = field(default_factory=list)
    failure: tuple[int, str] | None = None

    def add(self, text: str, origin: int) -> None:
        """Append SQL text, remembering the revision line for each of its lines."""
        for line in text.rstrip("\n").split("\n"):
            self.lines.append(line)
            self.origins.append(origin)

    def sql(self) -> str:
        """The whole file handed to squawk."""
        return "\n".join(self.lines) + "\n"


class _TaggingBuffer:
    """An output buffer for Alembic that records which revision line wrote each statement."""

    def __init__(self, rendered: Rendered, filename: str) -> None:
        self.rendered = rendered
        self.filename = filename
        self.spans = statement_spans(rendered.source.tree)

    def write(self, text: str) -> int:
        """Alembic writes one statement per call; tag it with the line that emitted it."""
        self.rendered.add(_placeholders_to_null(text), self._origin())
        return len(text)

    def flush(self) -> None:
        """Alembic flushes after each statement; there is nothing to flush."""

    def _origin(self) -> int:
        """The revision line on the call stack right now, or the upgrade() line."""
        frame: FrameType | None = sys._getframe(1)
        while frame is not None:
            if frame.f_code.co_filename == self.filename:
                return enclosing_statement(self.spans, frame.f_lineno)
            frame = frame.f_back
        return self.rendered.source.upgrade.lineno


def _placeholders_to_null(text: str) -> str:
    """Offline rendering leaves %(name)s for bound values; squawk needs SQL it can parse."""
    return re.sub(r"%\(\w+\)s", "NULL", text)


def enclosing_statement(spans: list[tuple[int, int]], line: int) -> int:
    """The first line of the innermost simple statement containing ``line``."""
    containing = [start for start, end in spans if start <= line <= end]
    return max(containing) if containing else line


def find_squawk() -> tuple[str | None, str]:
    """The squawk binary: $SQUAWK_BIN, next to this Python (a venv), or on PATH."""
    configured = os.environ.get("SQUAWK_BIN")
    if configured is not None:
        usable = Path(configured).is_file() and os.access(configured, os.X_OK)
        return (configured if usable else None), f"SQUAWK_BIN={configured} is not an executable"
    name = "squawk.exe" if os.name == "nt" else "squawk"
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return str(beside), ""
    return shutil.which("squawk"), "squawk is not installed (pip install squawk-cli)"


def run_sql_layer(sources: list[RevisionSource], keep_timeout_rules: bool) -> SqlResult:
    """Render every revision, report what cannot be rendered, then lint the SQL with squawk."""
    result = SqlResult()
    if importlib.util.find_spec("alembic") is None:
        result.notes.append(
            f"--sql skipped: alembic is not importable by {sys.executable}; "
            "AST findings only (run with the project's Python)"
        )
        return result
    rendered = [render_upgrade(source, index) for index, source in enumerate(sources)]
    for item in rendered:
        if item.failure:
            line, reason = item.failure
            result.findings.append(
                make_finding(
                    "sql-needs-online-check",
                    item.source.display,
                    line,
                    f"upgrade() cannot run offline ({reason}); SQL after this line was not linted",
                )
            )
    squawk, missing = find_squawk()
    if squawk is None:
        result.notes.append(f"--sql: {missing}; rendered SQL was not linted, AST findings only")
        return result
    lint_with_squawk(squawk, rendered, keep_timeout_rules, result)
    return result


def render_upgrade(source: RevisionSource, index: int) -> Rendered:
    """Run upgrade() in offline mode for PostgreSQL, capturing SQL line by line.

    An EnvironmentContext is installed as well, so revisions that branch on
    ``context.is_offline_mode()`` take their offline path, as with
    ``alembic upgrade --sql``.
    """
    from alembic.config import Config
    from alembic.operations import Operations
    from alembic.runtime.environment import EnvironmentContext
    from alembic.script import ScriptDirectory

    rendered = Rendered(source)
    filename = str(source.path.resolve())
    rendered.add("BEGIN;", source.upgrade.lineno)
    buffer = _TaggingBuffer(rendered, filename)
    script = ScriptDirectory(str(source.path.resolve().parent))
    sys.path.insert(0, str(Path.cwd()))
    try:
        with warnings.catch_warnings(), EnvironmentContext(Config(), script, as_sql=True) as env:
            warnings.simplefilter("ignore")
            env.configure(dialect_name="postgresql", output_buffer=buffer)
            module = _load_module(filename, f"_checked_revision_{index}")
            with Operations.context(env.get_context()):
                module.upgrade()
    except Exception as exc:
        rendered.failure = (_failing_line(exc, filename, source), _one_line(exc))
    finally:
        sys.path.remove(str(Path.cwd()))
    rendered.add("COMMIT;", source.upgrade.lineno)
    return rendered


def _load_module(filename: str, name: str) -> Any:
    """Import a revision file under a private module name, as Alembic's loader does."""
    spec = importlib.util.spec_from_file_location(name, filename)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {filename}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _failing_line(exc: Exception, filename: str, source: RevisionSource) -> int:
    """The deepest revision line in the traceback, or the upgrade() line."""
    lines = [
        frame.lineno
        for frame in traceback.extract_tb(exc.__traceback__)
        if frame.filename == filename
    ]
    spans = statement_spans(source.tree)
    return enclosing_statement(spans, lines[-1]) if lines and lines[-1] else source.upgrade.lineno


def _one_line(exc: Exception) -> str:
    """``Type: first line of the message`` for a one-line report."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def lint_with_squawk(
    squawk: str, rendered: list[Rendered], keep_timeout_rules: bool, result: SqlResult
) -> None:
    """Run squawk once over all rendered files and map its findings to revision lines."""
    with tempfile.TemporaryDirectory(prefix="check_migrations_") as folder:
        names = []
        for index, item in enumerate(rendered):
            name = f"{index:04d}.sql"
            Path(folder, name).write_text(item.sql(), encoding="utf-8")
            names.append(name)
        command = [squawk, "--reporter", "json"]
        if not keep_timeout_rules:
            command += ["--exclude", ",".join(TIMEOUT_RULES)]
        try:
            completed = subprocess.run(
                [*command, *names], cwd=folder, capture_output=True, text=True, timeout=120
            )
            entries = json.loads(completed.stdout or "[]")
        except (OSError, subprocess.SubprocessError, json.JSONDecodeError) as exc:
            result.notes.append(f"--sql: squawk failed ({_one_line(exc)}); AST findings only")
            return
    by_name = dict(zip(names, rendered, strict=True))
    seen: set[tuple[str, int, str]] = set()
    for entry in entries:
        item = by_name.get(Path(str(entry.get("file", ""))).name)
        if item is None:
            continue
        finding = squawk_finding(entry, item)
        key = (finding.file, finding.line, finding.rule)
        if key not in seen:
            seen.add(key)
            result.findings.append(finding)
    result.linted.update(item.source.display for item in rendered)


def squawk_finding(entry: dict[str, Any], item: Rendered) -> Finding:
    """One squawk JSON entry (0-based line) as a finding on the revision line that wrote it."""
    rule = str(entry.get("rule_name", "unknown"))
    sql_line = int(entry.get("line", 0))
    line = item.origins[min(max(sql_line, 0), len(item.origins) - 1)]
    severity = "error" if str(entry.get("level", "")).lower() == "error" else "warning"
    message = str(entry.get("message", "")).strip()
    return Finding(
        file=item.source.display,
        line=line,
        rule=f"{SQUAWK_PREFIX}{rule}",
        severity=severity,
        message=f"{message} (squawk; see {doc_path()}#sql-layer and {SQUAWK_DOCS}{rule})",
        fix=str(entry.get("help") or f"See {SQUAWK_DOCS}{rule}."),
        end_line=line,
    )
