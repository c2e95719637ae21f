"""Rules about how a revision is written: SQL strings, imports, transaction control."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..model import Finding
from ..sqlsource import formats_only_integers, read_sql
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


CONCURRENT_KW = "postgresql_concurrently"
NOT_VALID_KW = "postgresql_not_valid"


def check_sql_string_formatting(rev: Revision) -> Iterator[Finding]:
    """Formatted SQL breaks on quotes and invites injection; bind values instead.

    Integers computed from integer literals (``LIMIT {BATCH}``) print as digits
    and can do neither, so SQL that formats in only those is not reported.
    """
    for op in rev.ops.upgrade + rev.ops.downgrade:
        if op.name != "execute":
            continue
        source = read_sql(op.arg("sqltext"), op.scope)
        if source.formatted and not formats_only_integers(source, rev.source.tree):
            yield rev.finding(
                "sql-string-formatting",
                op,
                "SQL passed to execute() is built with an f-string, % or .format()",
            )


def check_model_import(rev: Revision) -> Iterator[Finding]:
    """Models follow today's code, not the schema at this revision."""
    for node in ast.walk(rev.source.tree):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            modules = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        if any(_is_model_module(module) for module in modules):
            yield rev.finding("model-import", node, "imports application models into a revision")


def _is_model_module(module: str) -> bool:
    parts = [part for part in module.split(".") if part]
    if not parts or parts[0] in {"sqlalchemy", "alembic"}:
        return False
    return any(part in {"models", "model"} for part in parts)


def check_transaction_control(rev: Revision) -> Iterator[Finding]:
    """Ending Alembic's transaction early leaves a half-applied revision on failure."""
    ops = rev.ops.upgrade + rev.ops.downgrade
    for op in ops:
        # A connection the revision opened itself is not Alembic's to end.
        if op.name in {"commit", "rollback"} and op.own_connection is None:
            yield rev.finding(
                "transaction-control", op, f".{op.name}() ends Alembic's transaction early"
            )
    reported: set[int] = set()
    for op, statement in rev.statements(ops):
        if statement.verb == "TRANSACTION" and id(op) not in reported:
            reported.add(id(op))
            yield rev.finding(
                "transaction-control",
                op,
                f"{statement.name} inside a migration breaks Alembic's transaction handling",
            )
