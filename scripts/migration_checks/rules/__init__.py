"""The AST rules: each function reads a Revision and yields findings for one rule id.

Lock and compatibility rules look at upgrade() only: that is what runs during
a deploy, and a downgrade is expected to drop what upgrade created. Rules about
SQL construction and transactions look at both functions. Operations on a table
created in the same revision are exempt from the lock rules, because nobody
else can be using an empty table that did not exist a moment ago.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from ..history import History, read_node
from ..model import Finding, InputError
from ..source import RevisionSource
from .code import check_model_import, check_sql_string_formatting, check_transaction_control
from .compat import check_drop_column, check_drop_table, check_rename_column, check_rename_table
from .data import check_backfill_with_ddl, check_unbatched_dml
from .downgrade import (
    check_downgrade_missing_drop,
    check_empty_downgrade,
    check_irreversible_downgrade,
)
from .locks import (
    check_add_not_null_without_default,
    check_add_primary_key,
    check_concurrently_outside_autocommit,
    check_constraint_not_valid,
    check_drop_index_not_concurrent,
    check_exclude_constraint,
    check_index_not_concurrent,
    check_json_not_jsonb,
    check_set_not_null,
    check_table_lock_statement,
    check_type_change_rewrite,
    check_unique_constraint,
    check_volatile_default,
)
from .revision import Check, Project, Revision

CHECKS: dict[str, Check] = {
    "drop-column": check_drop_column,
    "drop-table": check_drop_table,
    "rename-column": check_rename_column,
    "rename-table": check_rename_table,
    "index-not-concurrent": check_index_not_concurrent,
    "drop-index-not-concurrent": check_drop_index_not_concurrent,
    "concurrently-outside-autocommit": check_concurrently_outside_autocommit,
    "add-not-null-without-default": check_add_not_null_without_default,
    "set-not-null": check_set_not_null,
    "constraint-not-valid": check_constraint_not_valid,
    "unique-constraint": check_unique_constraint,
    "add-primary-key": check_add_primary_key,
    "exclude-constraint": check_exclude_constraint,
    "table-lock-statement": check_table_lock_statement,
    "type-change-rewrite": check_type_change_rewrite,
    "volatile-default": check_volatile_default,
    "json-not-jsonb": check_json_not_jsonb,
    "sql-string-formatting": check_sql_string_formatting,
    "model-import": check_model_import,
    "backfill-with-ddl": check_backfill_with_ddl,
    "unbatched-dml": check_unbatched_dml,
    "empty-downgrade": check_empty_downgrade,
    "irreversible-downgrade": check_irreversible_downgrade,
    "downgrade-missing-drop": check_downgrade_missing_drop,
    "transaction-control": check_transaction_control,
}


# Skipped for a revision that only runs on SQLite: PostgreSQL's locks and types, and the
# rules about old code running beside the new schema. A SQLite database is a file on one
# host; a deploy restarts the application there instead of rolling replicas past it.
SKIPPED_ON_SQLITE = {
    "drop-column",
    "drop-table",
    "rename-column",
    "rename-table",
    "index-not-concurrent",
    "drop-index-not-concurrent",
    "concurrently-outside-autocommit",
    "set-not-null",
    "constraint-not-valid",
    "unique-constraint",
    "type-change-rewrite",
    "volatile-default",
    "json-not-jsonb",
    "backfill-with-ddl",
    "unbatched-dml",
    "add-primary-key",
    "exclude-constraint",
    "table-lock-statement",
}


@dataclass
class CheckRun:
    """What one run found: findings by display path, unusable files, SQLite-only files."""

    findings: dict[str, list[Finding]]
    errors: list[InputError]
    sqlite_only: set[str]


def check_revisions(sources: list[RevisionSource], since: str | None = None) -> CheckRun:
    """Run every AST rule on each revision.

    A file nested too deeply to follow (Python's recursion limit) is reported
    as unusable rather than crashing the run for every other file.
    Raises UnknownRevision when ``since`` names no checked revision.
    """
    project = Project()
    run = CheckRun({source.display: [] for source in sources}, [], set())
    for source in sources:
        try:
            project.revisions.append(Revision.build(source, project))
        except RecursionError:
            run.errors.append(_too_deep(source))
    if since is not None:
        project.revisions = _with_new_tables_since(project.revisions, since)
    for revision in project.revisions:
        try:
            run.findings[revision.source.display] = _check(revision)
            if revision.sqlite_only:
                run.sqlite_only.add(revision.source.display)
        except RecursionError:
            run.errors.append(_too_deep(revision.source))
    return run


def _too_deep(source: RevisionSource) -> InputError:
    return InputError(
        source.display, 1, "nested too deeply for the checker to follow; review it by hand"
    )


def _with_new_tables_since(revisions: list[Revision], since: str) -> list[Revision]:
    """Revisions after ``since`` also count the tables their ancestors after it created."""
    nodes = {revision.source.display: read_node(revision.source) for revision in revisions}
    history = History(node for node in nodes.values() if node is not None)
    after = history.after(history.resolve(since))
    created_by: dict[str, frozenset[str]] = {}  # by id: files sharing an id add up
    for revision, node in zip(revisions, nodes.values(), strict=True):
        if node is not None:
            created_by[node.id] = created_by.get(node.id, frozenset()) | revision.created
    updated = []
    for revision in revisions:
        node = nodes[revision.source.display]
        if node is not None and node.id in after:
            earlier = history.ancestors(node.id) & after
            new_tables = frozenset().union(*(created_by[rev] for rev in earlier))
            revision = replace(revision, created=revision.created | new_tables)
        updated.append(revision)
    return updated


def _check(revision: Revision) -> list[Finding]:
    skipped = SKIPPED_ON_SQLITE if revision.sqlite_only else set()
    findings = (
        finding
        for rule, check in CHECKS.items()
        if rule not in skipped
        for finding in check(revision)
    )
    return _one_per_line(findings)


def _one_per_line(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per rule and line: two statements in one execute() are one place to fix.

    The first message is kept; it says how many more the line has. A statement
    chosen per dialect, read once per variant, gives identical findings: one.
    """
    kept: dict[tuple[int, str], list[Finding]] = {}
    for finding in findings:
        same = kept.setdefault((finding.line, finding.rule), [])
        if finding not in same:
            same.append(finding)
    merged = []
    for first, *more in kept.values():
        if more:
            extra = f"; and {len(more)} more on this line"
            message = first.message.replace(" (see ", f"{extra} (see ", 1)
            first = replace(first, message=message)
        merged.append(first)
    return merged
