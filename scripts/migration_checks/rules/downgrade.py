"""Rules about downgrade(): empty, raising, or leaving objects behind."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from ..model import Finding
from ..nodes import normalise_table as table_key
from ..sqlsource import read_sql
from ..sqltext import IDENT, Statement, classify, split_statements
from ..walker import Op
from .revision import Revision, read_column

# Statements come from split_statements(): whitespace collapsed, string literals blanked.
ADD_ENUM_VALUE_IF_NOT_EXISTS = re.compile(
    rf"^ALTER\s+TYPE\s+{IDENT}\s+ADD\s+VALUE\s+IF\s+NOT\s+EXISTS\b", re.I
)


def check_empty_downgrade(rev: Revision) -> Iterator[Finding]:
    """A no-op downgrade moves alembic_version back while the schema stays."""
    downgrade = rev.source.downgrade
    if not _changes_schema(rev):
        return
    if downgrade is None:
        yield rev.finding_at(
            "empty-downgrade",
            rev.source.upgrade.lineno,
            "upgrade() changes the schema; no downgrade()",
        )
    elif _is_trivial(downgrade.body):
        yield rev.finding_at(
            "empty-downgrade",
            downgrade.lineno,
            "downgrade() does nothing while upgrade() changes the schema",
        )


def _changes_schema(rev: Revision) -> bool:
    """op.* DDL, DDL in execute(), or SQL the checker cannot read; data-only changes are not."""
    for op in rev.ops.upgrade:
        if op.name in {"commit", "rollback", "bulk_insert", "orm_write"}:
            continue
        if op.name != "execute":
            return True
        source = read_sql(op.arg("sqltext"), op.scope)
        if source.core is not None:  # Core UPDATE/DELETE/INSERT/SELECT: data only
            continue
        if source.text is None:
            return True
        if any(_is_schema_change(part) for part in split_statements(source.text)):
            return True
    return False


def _is_schema_change(statement: str) -> bool:
    """DDL, except an enum value added with IF NOT EXISTS.

    PostgreSQL cannot drop an enum value, so there is nothing to write in
    downgrade(), and IF NOT EXISTS lets the upgrade run again after a downgrade.
    """
    return classify(statement).ddl and not ADD_ENUM_VALUE_IF_NOT_EXISTS.match(statement)


def _is_trivial(body: list[ast.stmt]) -> bool:
    """Only ``pass``, ``...`` or a docstring."""
    return all(
        isinstance(node, ast.Pass)
        or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
        for node in body
    )


def check_irreversible_downgrade(rev: Revision) -> Iterator[Finding]:
    """A raising downgrade is a deliberate choice; keep it visible."""
    downgrade = rev.source.downgrade
    for node in downgrade.body if downgrade else []:
        if isinstance(node, ast.Raise):
            yield rev.finding(
                "irreversible-downgrade", node, "downgrade() raises: the revision is irreversible"
            )


def check_downgrade_missing_drop(rev: Revision) -> Iterator[Finding]:
    """Objects left behind make the next upgrade fail with 'already exists'."""
    downgrade = rev.source.downgrade
    if downgrade is None or _is_trivial(downgrade.body):
        return
    if any(isinstance(node, ast.Raise) for node in downgrade.body):
        return
    drops = _downgrade_drops(rev)
    if drops is None:
        return
    for op, kind, key, table in _created_objects(rev):
        if (kind, key) not in drops and ("table", table) not in drops:
            yield rev.finding(
                "downgrade-missing-drop",
                op,
                f"upgrade() creates {kind} {key}; downgrade() never drops it",
            )


def _created_objects(rev: Revision) -> Iterator[tuple[Op, str, str, str | None]]:
    """(op, kind, name, table) for each named object upgrade() creates."""
    for op in rev.ops.upgrade:
        if op.name == "create_table" and op.table:
            yield op, "table", op.table, op.table
        elif op.name == "create_index" and op.name_arg("index_name"):
            yield op, "index", op.name_arg("index_name") or "", op.table
        elif op.name == "add_column":
            column = read_column(op.arg("column"), op.scope)
            if column and column.name and op.table:
                yield op, "column", f"{op.table}.{table_key(column.name)}", op.table
        elif op.name.startswith("create_") and op.name_arg("constraint_name"):
            yield op, "constraint", op.name_arg("constraint_name") or "", op.table


def _downgrade_drops(rev: Revision) -> set[tuple[str, str | None]] | None:
    """What downgrade() drops; None when it runs SQL the checker cannot read."""
    drops: set[tuple[str, str | None]] = set()
    for op in rev.ops.downgrade:
        if op.name == "drop_table":
            drops.add(("table", op.table))
        elif op.name == "drop_index":
            drops.add(("index", op.name_arg("index_name")))
        elif op.name == "drop_column":
            drops.add(("column", f"{op.table}.{op.name_arg('column_name')}"))
        elif op.name == "drop_constraint":
            # A constraint added USING INDEX takes its index with it when dropped.
            drops.add(("constraint", op.name_arg("constraint_name")))
            drops.add(("index", op.name_arg("constraint_name")))
        elif op.name == "execute":
            source = read_sql(op.arg("sqltext"), op.scope)
            if source.text is None and source.core is None:
                return None
            for statement in source.statements():
                drops.update(_statement_drops(statement))
    return drops


def _statement_drops(statement: Statement) -> set[tuple[str, str | None]]:
    mapping = {
        "DROP TABLE": ("table", statement.table),
        "DROP INDEX": ("index", statement.name),
        "DROP CONSTRAINT": ("constraint", statement.name),
        "DROP COLUMN": ("column", f"{statement.table}.{statement.name}"),
    }
    return {mapping[statement.verb]} if statement.verb in mapping else set()
