"""Rules about running code: drops and renames that pull a name from under it."""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Finding
from ..nodes import normalise_table as table_key
from .revision import Revision, is_none, read_column, table_label


def check_drop_column(rev: Revision) -> Iterator[Finding]:
    """Code still running during the deploy selects the column and fails."""
    for op in rev.upgrade("drop_column"):
        if rev.existing(op):
            column = op.name_arg("column_name") or "?"
            yield rev.finding(
                "drop-column", op, f"drops {table_label(op)}.{column}, which running code may read"
            )


def check_drop_table(rev: Revision) -> Iterator[Finding]:
    """Code still running during the deploy queries the table and fails."""
    for op in rev.upgrade("drop_table"):
        if rev.existing(op):
            yield rev.finding(
                "drop-table", op, f"drops table {table_label(op)}, which running code may read"
            )


def check_rename_column(rev: Revision) -> Iterator[Finding]:
    """The old name vanishes while old code still uses it.

    A column added earlier in the same upgrade is not one running code reads: renaming
    it is the last step of a swap (add a temporary column, fill it, drop the old one,
    rename), and the drop is what drop-column reports.
    """
    added: set[tuple[str | None, str | None]] = set()
    for op in rev.ops.upgrade:
        if op.name == "add_column":
            column = read_column(op.arg("column"), op.scope)
            if column is not None and column.name:
                added.add((op.table, table_key(column.name)))
            continue
        if op.name != "alter_column":
            continue
        new_name = op.arg("new_column_name")
        old = op.name_arg("column_name")
        if new_name is None or is_none(new_name) or not rev.existing(op):
            continue
        if (op.table, old) not in added:
            yield rev.finding(
                "rename-column", op, f"renames {table_label(op)}.{old or '?'} under running code"
            )


def check_rename_table(rev: Revision) -> Iterator[Finding]:
    """As rename-column, unless a view keeps the old name working."""
    views = {
        statement.table
        for _, statement in rev.statements(rev.ops.upgrade)
        if statement.verb == "CREATE VIEW"
    }
    for op in rev.upgrade("rename_table"):
        # A view under the old name keeps running code working: the safe way to rename.
        if rev.existing(op) and op.table not in views:
            yield rev.finding(
                "rename-table", op, f"renames table {table_label(op)} under running code"
            )
