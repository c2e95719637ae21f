"""Rules about data migrations: how long row locks and DDL locks last."""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Finding
from ..walker import Op
from .revision import Revision

VOLATILE_FUNCTIONS = {
    "random",
    "gen_random_uuid",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "uuidv4",
    "uuidv7",
    "clock_timestamp",
    "timeofday",
    "nextval",
}


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


def _tables_with_ddl_in_transaction(rev: Revision) -> set[str | None]:
    """Tables whose schema upgrade() changes inside Alembic's transaction."""
    in_transaction = [op for op in rev.ops.upgrade if not op.in_autocommit]
    ddl_tables = {op.table for op in in_transaction if op.name in DDL_OPS and op.table}
    ddl_tables.update(
        statement.table
        for _, statement in rev.statements(in_transaction)
        if statement.verb in {"ALTER TABLE", "ADD CONSTRAINT", "CREATE INDEX", "DROP COLUMN"}
        and statement.table
    )
    return ddl_tables - rev.created


def _holds_ddl_lock(rev: Revision, op: Op, table: str | None) -> bool:
    """DML in the transaction that changed its table's schema (backfill-with-ddl's case)."""
    return not op.in_autocommit and table in _tables_with_ddl_in_transaction(rev)


def check_backfill_with_ddl(rev: Revision) -> Iterator[Finding]:
    """DML after DDL in one transaction keeps the DDL lock for the whole backfill."""
    reported: set[int] = set()
    for op, statement in rev.statements(rev.ops.upgrade):
        table = statement.table
        if statement.verb not in {"UPDATE", "DELETE"} or id(op) in reported:
            continue
        if _holds_ddl_lock(rev, op, table):
            reported.add(id(op))
            yield rev.finding(
                "backfill-with-ddl",
                op,
                f"{statement.verb} on {table} runs in the transaction that changes its schema, "
                "so the DDL lock is held for the whole backfill",
            )


def check_unbatched_dml(rev: Revision) -> Iterator[Finding]:
    """Row locks last until commit: one big statement, or batches that never commit."""
    for op, statement in rev.statements(rev.ops.upgrade):
        if statement.verb not in {"UPDATE", "DELETE"} or statement.table in rev.created:
            continue
        # One bounded or parameterized statement per loop iteration is a batch.
        in_batches = op.in_loop and (statement.bounded or statement.parameterized)
        if in_batches and _holds_ddl_lock(rev, op, statement.table):
            continue  # backfill-with-ddl reports it, with the same fix
        if in_batches and not _commits_each_batch(rev, op):
            yield rev.finding(
                "unbatched-dml",
                op,
                f"{statement.verb} on {statement.table} runs in batches inside one "
                "transaction: every batch keeps its row locks until the migration commits",
            )
        elif not in_batches and not statement.bounded:
            scope = "every row" if not statement.has_where else "every matching row"
            yield rev.finding(
                "unbatched-dml",
                op,
                f"{statement.verb} on {statement.table} touches {scope} in one statement",
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
