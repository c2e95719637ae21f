"""Rules about data migrations: how long row locks and DDL locks last."""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Finding
from ..sqltext import Statement
from ..walker import Op
from .revision import Revision

DDL_OPS = {
    "add_column",
    "drop_column",
    "alter_column",
    "create_index",
    "drop_index",
    "create_foreign_key",
    "create_check_constraint",
    "create_unique_constraint",
    "create_primary_key",
    "create_exclude_constraint",
    "drop_constraint",
    "rename_table",
}


class DdlLocks:
    """Where upgrade() changes a table's schema inside Alembic's transaction.

    A lock taken by DDL lasts until that transaction commits, so DML on the
    table is slowed only when it comes after the DDL and before the commit:
    in the same segment between autocommit blocks. Tables nobody else uses yet
    (``rev.created``) hold no lock worth reporting.
    """

    def __init__(self, rev: Revision) -> None:
        self.position = {id(op): index for index, op in enumerate(rev.ops.upgrade)}
        # table -> (op position, statement position in the op, segment) of each DDL on it
        self.places: dict[str, list[tuple[int, int, int]]] = {}
        for op in rev.ops.upgrade:
            if op.in_autocommit:
                continue
            tables: list[tuple[int, str | None]] = []
            if op.name in DDL_OPS:
                tables.append((0, op.table))
            elif op.name == "execute":
                tables.extend(
                    (number, statement.table)
                    for number, statement in enumerate(op_statements(rev, op))
                    if statement.ddl
                )
            for number, table in tables:
                if table and table not in rev.created:
                    place = (self.position[id(op)], number, op.segment)
                    self.places.setdefault(table, []).append(place)

    def held(self, op: Op, number: int, table: str | None) -> bool:
        """DML at ``op`` (its ``number``th statement) runs after DDL on ``table``, uncommitted."""
        if op.in_autocommit or table is None:
            return False
        here = (self.position[id(op)], number)
        return any(
            segment == op.segment and (position, index) < here
            for position, index, segment in self.places.get(table, ())
        )


def op_statements(rev: Revision, op: Op) -> list[Statement]:
    """The statements one operation runs, in order."""
    return [statement for _, statement in rev.statements([op])]


def _dml(rev: Revision) -> Iterator[tuple[Op, int, Statement]]:
    """Each UPDATE/DELETE of upgrade(), with its position within its operation."""
    for op in rev.ops.upgrade:
        for number, statement in enumerate(op_statements(rev, op)):
            if statement.verb in {"UPDATE", "DELETE"}:
                yield op, number, statement


def check_backfill_with_ddl(rev: Revision) -> Iterator[Finding]:
    """DML after DDL in one transaction keeps the DDL lock for the whole backfill."""
    locks = DdlLocks(rev)
    reported: set[int] = set()
    for op, number, statement in _dml(rev):
        if id(op) not in reported and locks.held(op, number, statement.table):
            reported.add(id(op))
            yield rev.finding(
                "backfill-with-ddl",
                op,
                f"{statement.verb} on {statement.table} runs after DDL on that table in the "
                "same transaction, so the DDL lock is held for the whole backfill",
            )


def check_unbatched_dml(rev: Revision) -> Iterator[Finding]:
    """Row locks last until commit: one big statement, or batches that never commit."""
    locks = DdlLocks(rev)
    reported: set[int] = set()
    for op, number, statement in _dml(rev):
        if statement.table in rev.created or id(op) in reported:
            continue
        # One bounded or parameterized statement per loop iteration is a batch.
        in_batches = op.in_loop and (statement.bounded or statement.parameterized)
        if in_batches and locks.held(op, number, statement.table):
            continue  # backfill-with-ddl reports it, with the same fix
        if in_batches and not _commits_each_batch(rev, op):
            reported.add(id(op))
            yield rev.finding(
                "unbatched-dml",
                op,
                f"{statement.verb} on {statement.table or 'a table'} runs in batches inside one "
                "transaction: every batch keeps its row locks until the migration commits",
            )
        elif not in_batches and not statement.bounded:
            reported.add(id(op))
            scope = "every row" if not statement.has_where else "every matching row"
            how = (
                "through the ORM in one transaction"
                if op.name == "orm_write"
                else ("in one statement")
            )
            yield rev.finding(
                "unbatched-dml",
                op,
                f"{statement.verb} on {statement.table or 'a table'} touches {scope} {how}",
            )


def _commits_each_batch(rev: Revision, op: Op) -> bool:
    """In autocommit_block(), or on a connection of its own that commits every iteration."""
    if op.in_autocommit:
        return True
    own = op.own_connection
    if own is None:
        return False
    if own.method == "begin":  # `with x.begin()` inside the loop: a transaction per batch
        return own.loop == op.loop
    return any(
        other.name == "commit" and other.receiver == op.receiver and other.loop == op.loop
        for other in rev.ops.upgrade
    )
