"""The AST rules: each function reads a Revision and yields findings for one rule id.

Lock and compatibility rules look at upgrade() only: that is what runs during
a deploy, and a downgrade is expected to drop what upgrade created. Rules about
SQL construction and transactions look at both functions. Operations on a table
created in the same revision are exempt from the lock rules, because nobody
else can be using an empty table that did not exist a moment ago.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .coltypes import is_in_place_change, is_json, parse_type, type_name
from .model import Finding, make_finding
from .nodes import Scope, callee_name, is_false, is_true, keyword, literal_name
from .nodes import normalise_table as table_key
from .source import RevisionSource
from .sqltext import Statement, read_sql
from .walker import Op, Operations, collect_operations

Check = Callable[["Revision"], Iterator[Finding]]

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
VOLATILE_CALL = re.compile(r"\b(" + "|".join(sorted(VOLATILE_FUNCTIONS)) + r")\s*\(", re.I)
INTEGER_TYPES = {"Integer", "INTEGER", "BigInteger", "BIGINT", "SmallInteger", "SMALLINT"}
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
SCHEMA_ITEMS = {"ForeignKey", "CheckConstraint", "Identity", "Computed", "Sequence"}
CONCURRENT_KW = "postgresql_concurrently"
NOT_VALID_KW = "postgresql_not_valid"


@dataclass(frozen=True)
class ColumnSpec:
    """The parts of an ``sa.Column(...)`` call that decide whether adding it is safe."""

    name: str | None
    type_: ast.expr | None
    not_null: bool
    server_default: ast.expr | None
    unique: bool
    index: bool
    foreign_keys: tuple[ast.Call, ...]
    checks: tuple[ast.Call, ...]
    generated: str | None


def read_column(node: ast.expr | None, scope: Scope) -> ColumnSpec | None:
    """Parse a Column call (directly or through a variable); None when it is not one."""
    if isinstance(node, ast.Name):
        node = scope.get(node.id)
    if not isinstance(node, ast.Call) or callee_name(node) != "Column":
        return None
    positional = list(node.args)
    name = literal_name(positional[0]) if positional else None
    if name is not None:
        positional = positional[1:]
    type_ = keyword(node, "type_")
    if type_ is None and positional and callee_name(positional[0]) not in SCHEMA_ITEMS:
        type_, positional = positional[0], positional[1:]
    items = [arg for arg in positional if isinstance(arg, ast.Call)]
    primary_key = is_true(keyword(node, "primary_key"))
    nullable = keyword(node, "nullable")
    return ColumnSpec(
        name=name,
        type_=type_,
        not_null=is_false(nullable) or (primary_key and not is_true(nullable)),
        server_default=keyword(node, "server_default"),
        unique=is_true(keyword(node, "unique")),
        index=is_true(keyword(node, "index")),
        foreign_keys=tuple(item for item in items if callee_name(item) == "ForeignKey"),
        checks=tuple(item for item in items if callee_name(item) == "CheckConstraint"),
        generated=_generated_kind(items, type_, primary_key, keyword(node, "autoincrement")),
    )


def _generated_kind(
    items: list[ast.Call], type_: ast.expr | None, primary_key: bool, autoincrement: ast.expr | None
) -> str | None:
    """Identity, stored generated and serial columns: each writes a value into every row."""
    for item in items:
        if callee_name(item) == "Identity":
            return "an identity column"
        if callee_name(item) == "Computed" and not is_false(keyword(item, "persisted")):
            return "a stored generated column"
    integer = type_ is not None and type_name(type_) in INTEGER_TYPES
    if primary_key and integer and not is_false(autoincrement):
        return "a serial primary key"
    return None


def volatile_default(expr: ast.expr | None) -> str | None:
    """The volatile function a server_default calls, if any (now() is stable, so not here).

    A plain string is a quoted literal (``server_default="random()"`` stores that
    text), so only SQL in ``sa.text()``/``literal_column()`` or ``sa.func.*`` counts.
    """
    if expr is None or isinstance(expr, ast.Constant):
        return None
    if isinstance(expr, ast.Call) and callee_name(expr) in {"text", "literal_column"}:
        sql = expr.args[0] if expr.args else None
        if isinstance(sql, ast.Constant) and isinstance(sql.value, str):
            match = VOLATILE_CALL.search(sql.value)
            return f"{match.group(1)}()" if match else None
        return None
    for inner in ast.walk(expr):
        name = callee_name(inner)
        if name and name.lower() in VOLATILE_FUNCTIONS:
            return f"{name}()"
    return None


@dataclass(frozen=True)
class Revision:
    """A parsed revision with its operations, shared by every rule."""

    source: RevisionSource
    ops: Operations
    created: frozenset[str]

    @classmethod
    def build(cls, source: RevisionSource) -> Revision:
        ops = collect_operations(source)
        return cls(source, ops, frozenset(ops.created_tables))

    def finding(self, rule_id: str, op: Op | ast.AST, detail: str) -> Finding:
        """A finding at an operation (or any node), spanning all of its lines."""
        node = op.call if isinstance(op, Op) else op
        line = getattr(node, "lineno", 1)
        end = getattr(node, "end_lineno", line) or line
        return make_finding(rule_id, self.source.display, line, detail, end)

    def finding_at(self, rule_id: str, line: int, detail: str) -> Finding:
        """A finding on one line, e.g. a ``def`` line whose body is the problem."""
        return make_finding(rule_id, self.source.display, line, detail)

    def existing(self, op: Op) -> bool:
        """True unless the op's table was created by this revision (unknown counts as existing)."""
        return op.table is None or op.table not in self.created

    def upgrade(self, *names: str) -> Iterator[Op]:
        """upgrade() operations with one of the given names."""
        return (op for op in self.ops.upgrade if op.name in names)

    def statements(self, ops: list[Op]) -> Iterator[tuple[Op, Statement]]:
        """Every SQL statement passed to execute(), with the op that runs it."""
        for op in ops:
            if op.name == "execute":
                for statement in read_sql(op.arg("sqltext"), op.scope).statements():
                    yield op, statement

    def added_columns(self) -> Iterator[tuple[Op, ColumnSpec]]:
        """add_column on existing tables, with the parsed column."""
        for op in self.upgrade("add_column"):
            column = read_column(op.arg("column"), op.scope)
            if column is not None and self.existing(op):
                yield op, column


def _where(op: Op) -> str:
    """The table an operation touches, for messages."""
    return op.table or "the table"


def _index(name: str | None) -> str:
    """ "index ix_name", or "an index" when the name is computed."""
    return f"index {name}" if name else "an index"


def check_drop_column(rev: Revision) -> Iterator[Finding]:
    """Code still running during the deploy selects the column and fails."""
    for op in rev.upgrade("drop_column"):
        if rev.existing(op):
            column = op.name_arg("column_name") or "?"
            yield rev.finding(
                "drop-column", op, f"drops {_where(op)}.{column}, which running code may read"
            )


def check_drop_table(rev: Revision) -> Iterator[Finding]:
    """Code still running during the deploy queries the table and fails."""
    for op in rev.upgrade("drop_table"):
        if rev.existing(op):
            yield rev.finding(
                "drop-table", op, f"drops table {_where(op)}, which running code may read"
            )


def check_rename_column(rev: Revision) -> Iterator[Finding]:
    """The old name vanishes while old code still uses it."""
    for op in rev.upgrade("alter_column"):
        new_name = op.arg("new_column_name")
        if new_name is not None and not _is_none(new_name) and rev.existing(op):
            old = op.name_arg("column_name") or "?"
            yield rev.finding("rename-column", op, f"renames {_where(op)}.{old} under running code")


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
            yield rev.finding("rename-table", op, f"renames table {_where(op)} under running code")


def check_index_not_concurrent(rev: Revision) -> Iterator[Finding]:
    """A plain CREATE INDEX holds SHARE: writes wait for the whole build."""
    for op in rev.upgrade("create_index"):
        if rev.existing(op) and not is_true(keyword(op.call, CONCURRENT_KW)):
            yield rev.finding(
                "index-not-concurrent",
                op,
                f"builds {_index(op.name_arg('index_name'))} on {_where(op)} without "
                "CONCURRENTLY; writes to the table block until it finishes",
            )
    for op, column in rev.added_columns():
        if column.index:
            yield rev.finding(
                "index-not-concurrent",
                op,
                f"Column(index=True) builds an index on {_where(op)} without CONCURRENTLY",
            )
    for op, statement in rev.statements(rev.ops.upgrade):
        if (
            statement.verb == "CREATE INDEX"
            and not statement.concurrently
            and statement.table not in rev.created
        ):
            yield rev.finding(
                "index-not-concurrent",
                op,
                f"CREATE INDEX on {statement.table} without CONCURRENTLY blocks writes",
            )


def check_drop_index_not_concurrent(rev: Revision) -> Iterator[Finding]:
    """A plain DROP INDEX queues for ACCESS EXCLUSIVE behind running queries."""
    created_indexes = {op.name_arg("index_name") for op in rev.upgrade("create_index")}
    for op in rev.upgrade("drop_index"):
        index = op.name_arg("index_name")
        concurrent = is_true(keyword(op.call, CONCURRENT_KW))
        if not concurrent and rev.existing(op) and index not in created_indexes:
            yield rev.finding(
                "drop-index-not-concurrent",
                op,
                f"drops {_index(index)} without CONCURRENTLY (ACCESS EXCLUSIVE on the table)",
            )
    for op, statement in rev.statements(rev.ops.upgrade):
        if statement.verb == "DROP INDEX" and not statement.concurrently:
            yield rev.finding(
                "drop-index-not-concurrent",
                op,
                f"DROP INDEX {statement.name} without CONCURRENTLY (ACCESS EXCLUSIVE)",
            )


def check_concurrently_outside_autocommit(rev: Revision) -> Iterator[Finding]:
    """PostgreSQL rejects CONCURRENTLY inside a transaction block."""
    ops = rev.ops.upgrade + rev.ops.downgrade
    for op in ops:
        if op.in_autocommit or op.name not in {"create_index", "drop_index"}:
            continue
        if is_true(keyword(op.call, CONCURRENT_KW)):
            yield rev.finding(
                "concurrently-outside-autocommit",
                op,
                f"{op.name}(postgresql_concurrently=True) in {op.function}() runs inside the "
                "migration transaction, which PostgreSQL rejects",
            )
    for op, statement in rev.statements(ops):
        if statement.concurrently and not op.in_autocommit:
            yield rev.finding(
                "concurrently-outside-autocommit",
                op,
                f"a CONCURRENTLY statement in {op.function}() runs inside the migration "
                "transaction, which PostgreSQL rejects",
            )


def check_add_not_null_without_default(rev: Revision) -> Iterator[Finding]:
    """Existing rows would be NULL, so the ALTER fails on a non-empty table."""
    for op, column in rev.added_columns():
        if column.not_null and column.server_default is None and column.generated is None:
            yield rev.finding(
                "add-not-null-without-default",
                op,
                f"adds NOT NULL column {_where(op)}.{column.name or '?'} without a "
                "server_default; existing rows make it fail",
            )


def check_set_not_null(rev: Revision) -> Iterator[Finding]:
    """SET NOT NULL scans under ACCESS EXCLUSIVE unless a validated CHECK proves it."""
    validated = {
        statement.table
        for _, statement in rev.statements(rev.ops.upgrade)
        if statement.verb == "VALIDATE"
    }
    for op in rev.upgrade("alter_column"):
        if not is_false(op.arg("nullable")) or is_false(keyword(op.call, "existing_nullable")):
            continue
        if rev.existing(op) and op.table not in validated:
            column = op.name_arg("column_name") or "?"
            yield rev.finding(
                "set-not-null",
                op,
                f"SET NOT NULL on {_where(op)}.{column} scans the table under ACCESS EXCLUSIVE",
            )


def check_constraint_not_valid(rev: Revision) -> Iterator[Finding]:
    """Validating existing rows while holding the ADD CONSTRAINT lock blocks writes."""
    not_valid_names: set[str | None] = set()
    for op in rev.upgrade("create_foreign_key", "create_check_constraint"):
        if is_true(keyword(op.call, NOT_VALID_KW)):
            if not op.in_autocommit:
                not_valid_names.add(op.name_arg("constraint_name"))
        elif rev.existing(op):
            kind = "foreign key" if op.name == "create_foreign_key" else "CHECK constraint"
            yield rev.finding(
                "constraint-not-valid",
                op,
                f"adds a {kind} to {_where(op)} without postgresql_not_valid=True; "
                "the table is scanned while locked",
            )
    for op, column in rev.added_columns():
        unvalidated = [
            item
            for item in column.foreign_keys + column.checks
            if not is_true(keyword(item, NOT_VALID_KW))
        ]
        if unvalidated:
            yield rev.finding(
                "constraint-not-valid",
                op,
                f"add_column with {callee_name(unvalidated[0])}(...) adds a validated "
                f"constraint to {_where(op)}",
            )
    for op, statement in rev.statements(rev.ops.upgrade):
        if statement.verb == "ADD CONSTRAINT" and statement.not_valid and not op.in_autocommit:
            not_valid_names.add(statement.name)
        if (
            statement.verb == "VALIDATE"
            and statement.name in not_valid_names
            and not op.in_autocommit
        ):
            yield rev.finding(
                "constraint-not-valid",
                op,
                f"validates {statement.name} in the transaction that added it, so the "
                "lock from the ADD is held during the scan",
            )


def check_unique_constraint(rev: Revision) -> Iterator[Finding]:
    """ADD UNIQUE builds its index under ACCESS EXCLUSIVE."""
    for op in rev.upgrade("create_unique_constraint"):
        if rev.existing(op):
            yield rev.finding(
                "unique-constraint",
                op,
                f"adds a unique constraint to {_where(op)}; its index is built while "
                "writes are blocked",
            )
    for op, column in rev.added_columns():
        if column.unique and not column.index:
            yield rev.finding(
                "unique-constraint",
                op,
                f"Column(unique=True) adds a unique constraint to {_where(op)}",
            )


def check_type_change_rewrite(rev: Revision) -> Iterator[Finding]:
    """Type changes other than known widenings rewrite the table under ACCESS EXCLUSIVE."""
    for op in rev.upgrade("alter_column"):
        new = op.arg("type_")
        if new is None or _is_none(new) or not rev.existing(op):
            continue
        column = f"{_where(op)}.{op.name_arg('column_name') or '?'}"
        old_type, new_type = parse_type(keyword(op.call, "existing_type")), parse_type(new)
        if old_type is None:
            yield rev.finding(
                "type-change-rewrite",
                op,
                f"changes the type of {column} without existing_type=, so a table rewrite "
                "cannot be ruled out",
            )
        elif keyword(op.call, "postgresql_using") is not None:
            yield rev.finding(
                "type-change-rewrite", op, f"changes {column} with USING, which rewrites the table"
            )
        elif new_type is None or not is_in_place_change(old_type, new_type):
            spelled = new_type.spelled if new_type else ast.unparse(new)
            yield rev.finding(
                "type-change-rewrite",
                op,
                f"changes {column} from {old_type.spelled} to {spelled}, which rewrites the table",
            )


def check_volatile_default(rev: Revision) -> Iterator[Finding]:
    """A per-row default on a new column rewrites every existing row."""
    for op, column in rev.added_columns():
        volatile = volatile_default(column.server_default)
        reason = f"a volatile default {volatile}" if volatile else column.generated
        if reason:
            yield rev.finding(
                "volatile-default",
                op,
                f"adds {_where(op)}.{column.name or '?'} with {reason}; every existing row is "
                "rewritten under ACCESS EXCLUSIVE",
            )


def check_json_not_jsonb(rev: Revision) -> Iterator[Finding]:
    """json lacks equality and GIN indexing; converting later is a rewrite."""
    for op in rev.upgrade("add_column", "create_table", "alter_column"):
        if op.name == "alter_column":
            types = [op.arg("type_")]
        else:
            args = [op.arg("column")] if op.name == "add_column" else list(op.call.args[1:])
            columns = [read_column(arg, op.scope) for arg in args]
            types = [column.type_ for column in columns if column is not None]
        for type_ in types:
            if is_json(type_):
                yield rev.finding(
                    "json-not-jsonb",
                    op,
                    f"{ast.unparse(type_) if type_ else 'JSON'} is json, not jsonb, on PostgreSQL",
                )


def check_sql_string_formatting(rev: Revision) -> Iterator[Finding]:
    """Formatted SQL breaks on quotes and invites injection; bind values instead."""
    for op in rev.ops.upgrade + rev.ops.downgrade:
        if op.name == "execute" and read_sql(op.arg("sqltext"), op.scope).formatted:
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
        if op.name in {"commit", "rollback", "bulk_insert"}:
            continue
        if op.name != "execute":
            return True
        source = read_sql(op.arg("sqltext"), op.scope)
        if source.text is None and source.core is None:
            return True
        if any(statement.ddl for statement in source.statements()):
            return True
    return False


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


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


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


def check_revision(source: RevisionSource) -> list[Finding]:
    """Run every AST rule on one revision."""
    revision = Revision.build(source)
    findings = (finding for check in CHECKS.values() for finding in check(revision))
    # One report per problem: a statement chosen per dialect is read once per variant.
    return list(dict.fromkeys(findings))
