"""Rules about locks and rewrites on PostgreSQL: index builds, constraints, types, defaults."""

from __future__ import annotations

import ast
import re
import weakref
from collections.abc import Iterator
from dataclasses import dataclass

from ..coltypes import is_in_place_change, is_json, parse_type
from ..history import History, read_node
from ..model import Finding
from ..nodes import Scope, callee_name, is_false, is_true, keyword, literal_name, normalise_table
from ..sqlsource import read_sql
from ..sqltext import Action, Statement, not_null_column
from ..walker import Op
from .revision import Project, Revision, index_label, is_none, read_column, table_label

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


CONCURRENT_KW = "postgresql_concurrently"
NOT_VALID_KW = "postgresql_not_valid"
# LOCK TABLE modes that conflict with ROW EXCLUSIVE, the lock every INSERT/UPDATE/DELETE takes.
WRITE_BLOCKING_MODES = {"SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"}
# REINDEX of these kinds, and VACUUM of any kind, refuse to run inside a transaction block.
NO_TRANSACTION_REINDEX = {"SCHEMA", "DATABASE", "SYSTEM"}


def on_existing(rev: Revision, statement: Statement) -> bool:
    """A statement that touches a table older than this revision (unknown counts as old)."""
    tables = statement.tables or ((statement.table,) if statement.table else ())
    return not tables or any(table not in rev.created for table in tables)


def sql_actions(rev: Revision) -> Iterator[tuple[Op, Statement, Action]]:
    """Each action of each raw ALTER TABLE in upgrade() on an existing table."""
    for op, statement in rev.statements(rev.ops.upgrade):
        if on_existing(rev, statement):
            for action in statement.actions:
                yield op, statement, action


def tables_label(statement: Statement) -> str:
    return ", ".join(statement.tables) if statement.tables else "every table it may touch"


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


def check_index_not_concurrent(rev: Revision) -> Iterator[Finding]:
    """A plain CREATE INDEX holds SHARE: writes wait for the whole build."""
    for op in rev.upgrade("create_index"):
        if rev.existing(op) and not is_true(keyword(op.call, CONCURRENT_KW)):
            yield rev.finding(
                "index-not-concurrent",
                op,
                f"builds {index_label(op.name_arg('index_name'))} on {table_label(op)} without "
                "CONCURRENTLY; writes to the table block until it finishes",
            )
    for op, column in rev.added_columns():
        if column.index:
            yield rev.finding(
                "index-not-concurrent",
                op,
                f"Column(index=True) builds an index on {table_label(op)} without CONCURRENTLY",
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
        elif (
            statement.verb == "REINDEX"
            and not statement.concurrently
            and on_existing(rev, statement)
        ):
            target = f"{statement.mode} {statement.name or ''}".strip()
            yield rev.finding(
                "index-not-concurrent",
                op,
                f"REINDEX {target} without CONCURRENTLY blocks writes to the table while "
                "it rebuilds, and reads that use the index; run REINDEX ... CONCURRENTLY "
                "inside autocommit_block()",
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
                f"drops {index_label(index)} without CONCURRENTLY (ACCESS EXCLUSIVE on the table)",
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
        if op.in_autocommit:
            continue
        if statement.concurrently:
            yield rev.finding(
                "concurrently-outside-autocommit",
                op,
                f"a CONCURRENTLY statement in {op.function}() runs inside the migration "
                "transaction, which PostgreSQL rejects",
            )
        elif statement.verb == "VACUUM" or (
            statement.verb == "REINDEX" and statement.mode in NO_TRANSACTION_REINDEX
        ):
            verb = "VACUUM" if statement.verb == "VACUUM" else f"REINDEX {statement.mode}"
            yield rev.finding(
                "concurrently-outside-autocommit",
                op,
                f"{verb} in {op.function}() runs inside the migration transaction, which "
                "PostgreSQL rejects",
            )


def check_add_not_null_without_default(rev: Revision) -> Iterator[Finding]:
    """Existing rows would be NULL, so the ALTER fails on a non-empty table."""
    for op, column in rev.added_columns():
        if column.not_null and column.server_default is None and column.generated is None:
            yield rev.finding(
                "add-not-null-without-default",
                op,
                f"adds NOT NULL column {table_label(op)}.{column.name or '?'} without a "
                "server_default; existing rows make it fail",
            )
    for op, statement, action in sql_actions(rev):
        not_null = {"NOT NULL", "PRIMARY KEY"} & set(action.inline)
        if action.kind == "ADD COLUMN" and not_null and not (action.default or action.generated):
            yield rev.finding(
                "add-not-null-without-default",
                op,
                f"ADD COLUMN {statement.table}.{action.column} NOT NULL without a DEFAULT; "
                "existing rows make it fail",
            )


@dataclass(frozen=True)
class NotNullCheck:
    """A CHECK (col IS NOT NULL): once validated, SET NOT NULL on col skips its scan."""

    table: str | None
    name: str | None
    column: str
    validated: bool  # added without NOT VALID


@dataclass(frozen=True)
class Validation:
    """An ALTER TABLE ... VALIDATE CONSTRAINT name."""

    table: str | None
    name: str | None


@dataclass(frozen=True)
class SetNotNull:
    """SET NOT NULL on an existing table, from alter_column or from raw SQL."""

    table: str | None
    column: str


NotNullEvent = NotNullCheck | Validation | SetNotNull


def condition_column(node: ast.expr | None, scope: Scope) -> str | None:
    """The column a create_check_constraint condition proves NOT NULL, if that is all it says.

    Reads SQL text (``"email IS NOT NULL"``, ``sa.text(...)``) and the Core forms
    ``sa.column("email").isnot(None)`` / ``.is_not(None)`` / ``!= None``.
    """
    if isinstance(node, ast.Name):
        node = scope.get(node.id, node)
    if (
        isinstance(node, ast.Call)
        and callee_name(node) in {"isnot", "is_not"}
        and isinstance(node.func, ast.Attribute)
        and node.args
        and is_none(node.args[0])
    ):
        return _column_name(node.func.value, scope)
    if (
        isinstance(node, ast.Compare)
        and len(node.ops) == 1
        and isinstance(node.ops[0], ast.NotEq | ast.IsNot)
        and is_none(node.comparators[0])
    ):
        return _column_name(node.left, scope)
    text = read_sql(node, scope).text
    return not_null_column(text) if text else None


def _column_name(node: ast.expr, scope: Scope) -> str | None:
    """``sa.column("email")`` or ``sa.Column("email")``: "email"."""
    if isinstance(node, ast.Call) and callee_name(node) in {"column", "Column"} and node.args:
        return normalise_table(literal_name(node.args[0], scope))
    return None


def not_null_events(rev: Revision) -> Iterator[tuple[Op, NotNullEvent]]:
    """upgrade()'s NOT NULL checks, validations and SET NOT NULLs, in the order they run."""
    for op in rev.ops.upgrade:
        if op.name == "create_check_constraint":
            column = condition_column(op.arg("condition"), op.scope)
            if column:
                validated = not is_true(keyword(op.call, NOT_VALID_KW))
                name = op.name_arg("constraint_name")
                yield op, NotNullCheck(op.table, name, column, validated)
        elif op.name == "alter_column" and rev.existing(op):
            not_null = is_false(op.arg("nullable"))
            if not_null and not is_false(keyword(op.call, "existing_nullable")):
                yield op, SetNotNull(op.table, op.name_arg("column_name") or "?")
        elif op.name == "execute":
            for _, statement in rev.statements([op]):
                yield from ((op, event) for event in _sql_not_null_events(rev, statement))


def _sql_not_null_events(rev: Revision, statement: Statement) -> Iterator[NotNullEvent]:
    table = statement.table
    for action in statement.actions:
        if action.kind == "ADD CONSTRAINT" and action.constraint == "CHECK" and action.column:
            yield NotNullCheck(table, action.name, action.column, not action.not_valid)
        elif action.kind == "VALIDATE":
            yield Validation(table, action.name)
        elif action.kind == "SET NOT NULL" and action.column and table not in rev.created:
            yield SetNotNull(table, action.column)


def _same_table(first: str | None, second: str | None) -> bool:
    return first is None or second is None or first == second


def _proven(target: SetNotNull, checks: list[NotNullCheck], validations: list[Validation]) -> bool:
    """A CHECK (col IS NOT NULL) on this column, validated when added or by name since."""
    for check in checks:
        if check.column != target.column or not _same_table(check.table, target.table):
            continue
        if check.validated or any(
            done.name == check.name and _same_table(done.table, check.table) for done in validations
        ):
            return True
    return False


class EarlierChecks:
    """The NOT NULL checks and validations of each revision in a run, by revision id.

    Built once per run: a SET NOT NULL may rely on a check that an ancestor
    revision added and validated.
    """

    def __init__(self, project: Project) -> None:
        self.revisions: dict[str, Revision] = {}
        nodes = []
        for revision in project.revisions:
            node = read_node(revision.source)
            if node is not None:
                nodes.append(node)
                self.revisions[node.id] = revision
        self.history = History(nodes)
        self.events: dict[str, list[NotNullEvent]] = {}

    def before(self, rev: Revision) -> tuple[list[NotNullCheck], list[Validation]]:
        """What the revisions this one descends from added and validated."""
        node = read_node(rev.source)
        if node is None or self.revisions.get(node.id) is None:
            return [], []
        checks: list[NotNullCheck] = []
        validations: list[Validation] = []
        for ancestor in self.history.ancestors(node.id) - {node.id}:
            if ancestor not in self.events:
                earlier = self.revisions[ancestor]
                self.events[ancestor] = [event for _, event in not_null_events(earlier)]
            for event in self.events[ancestor]:
                if isinstance(event, NotNullCheck):
                    checks.append(event)
                elif isinstance(event, Validation):
                    validations.append(event)
        return checks, validations


_EARLIER: weakref.WeakKeyDictionary[Project, EarlierChecks] = weakref.WeakKeyDictionary()


def earlier_checks(rev: Revision) -> tuple[list[NotNullCheck], list[Validation]]:
    if rev.project not in _EARLIER:
        _EARLIER[rev.project] = EarlierChecks(rev.project)
    return _EARLIER[rev.project].before(rev)


def check_set_not_null(rev: Revision) -> Iterator[Finding]:
    """SET NOT NULL scans under ACCESS EXCLUSIVE unless a validated CHECK (col IS NOT NULL)
    on that column proves it: added here or in an ancestor, validated before the SET."""
    events = list(not_null_events(rev))
    if not any(isinstance(event, SetNotNull) for _, event in events):
        return
    checks, validations = earlier_checks(rev)
    for op, event in events:
        if isinstance(event, NotNullCheck):
            checks.append(event)
        elif isinstance(event, Validation):
            validations.append(event)
        elif not _proven(event, checks, validations):
            how = "alter_column(nullable=False)" if op.name == "alter_column" else "SET NOT NULL"
            detail = (
                f"{how} on {event.table or 'the table'}.{event.column} scans the table under "
                f"ACCESS EXCLUSIVE: no validated CHECK ({event.column} IS NOT NULL) comes first"
            )
            yield rev.finding(
                "set-not-null", op, detail + _unknown_validation(event, checks, validations)
            )


def _unknown_validation(
    target: SetNotNull, checks: list[NotNullCheck], validations: list[Validation]
) -> str:
    """Name a VALIDATE whose constraint the checker never saw: its definition may sit in a
    revision that was not among the files checked."""
    known = {check.name for check in checks}
    for done in validations:
        if done.name not in known and _same_table(done.table, target.table):
            return (
                f"; it validates {done.name}, but no CHECK ({target.column} IS NOT NULL) of "
                "that name is in this revision or its ancestors among the files checked"
            )
    return ""


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
                f"adds a {kind} to {table_label(op)} without postgresql_not_valid=True; "
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
                f"constraint to {table_label(op)}",
            )
    for op, statement in rev.statements(rev.ops.upgrade):
        for action in statement.actions:
            scanned = action.constraint in {"CHECK", "FOREIGN KEY"}
            if action.kind == "ADD CONSTRAINT" and scanned and action.not_valid:
                if not op.in_autocommit:
                    not_valid_names.add(action.name)
            elif action.kind == "ADD CONSTRAINT" and scanned and on_existing(rev, statement):
                yield rev.finding(
                    "constraint-not-valid",
                    op,
                    f"ADD {action.constraint} on {statement.table} without NOT VALID; the "
                    "table is scanned while locked",
                )
            elif action.kind == "ADD COLUMN" and {"CHECK", "FOREIGN KEY"} & set(action.inline):
                if on_existing(rev, statement):
                    yield rev.finding(
                        "constraint-not-valid",
                        op,
                        f"ADD COLUMN {statement.table}.{action.column} with an inline "
                        "REFERENCES or CHECK adds a validated constraint",
                    )
            elif (
                action.kind == "VALIDATE"
                and action.name in not_valid_names
                and not op.in_autocommit
            ):
                yield rev.finding(
                    "constraint-not-valid",
                    op,
                    f"validates {action.name} in the transaction that added it, so the "
                    "lock from the ADD is held during the scan",
                )


def check_unique_constraint(rev: Revision) -> Iterator[Finding]:
    """ADD UNIQUE builds its index under ACCESS EXCLUSIVE."""
    for op in rev.upgrade("create_unique_constraint"):
        if rev.existing(op):
            yield rev.finding(
                "unique-constraint",
                op,
                f"adds a unique constraint to {table_label(op)}; its index is built while "
                "reads and writes are blocked",
            )
    for op, column in rev.added_columns():
        if column.unique and not column.index:
            yield rev.finding(
                "unique-constraint",
                op,
                f"Column(unique=True) adds a unique constraint to {table_label(op)}",
            )
    yield from _raw_constraint_builds(rev, "unique-constraint", "UNIQUE")


def check_add_primary_key(rev: Revision) -> Iterator[Finding]:
    """ADD PRIMARY KEY builds its index under ACCESS EXCLUSIVE: no reads, no writes."""
    for op in rev.upgrade("create_primary_key"):
        if rev.existing(op):
            yield rev.finding(
                "add-primary-key",
                op,
                f"adds a primary key to {table_label(op)}; its index is built while reads "
                "and writes are blocked",
            )
    yield from _raw_constraint_builds(rev, "add-primary-key", "PRIMARY KEY")


def _raw_constraint_builds(rev: Revision, rule: str, constraint: str) -> Iterator[Finding]:
    """Raw ``ADD [CONSTRAINT n] <constraint> (...)`` or ``ADD COLUMN ... <constraint>``:
    an index built under ACCESS EXCLUSIVE; ``USING INDEX`` attaches a built one instead."""
    for op, statement, action in sql_actions(rev):
        builds = action.constraint == constraint and not action.using_index
        if action.kind == "ADD CONSTRAINT" and builds:
            yield rev.finding(
                rule,
                op,
                f"ADD {constraint} on {statement.table} without USING INDEX builds its index "
                "while reads and writes are blocked",
            )
        elif action.kind == "ADD COLUMN" and constraint in action.inline:
            yield rev.finding(
                rule,
                op,
                f"ADD COLUMN {statement.table}.{action.column} {constraint} builds an index "
                "while reads and writes are blocked",
            )


def check_exclude_constraint(rev: Revision) -> Iterator[Finding]:
    """ADD EXCLUDE builds its index under ACCESS EXCLUSIVE, and has no USING INDEX form."""
    for op in rev.upgrade("create_exclude_constraint"):
        if rev.existing(op):
            yield rev.finding(
                "exclude-constraint",
                op,
                f"adds an exclusion constraint to {table_label(op)}; its index is built while "
                "reads and writes are blocked",
            )
    for op, statement, action in sql_actions(rev):
        if action.kind == "ADD CONSTRAINT" and action.constraint == "EXCLUDE":
            yield rev.finding(
                "exclude-constraint",
                op,
                f"ADD EXCLUDE on {statement.table} builds its index while reads and writes "
                "are blocked",
            )


def check_table_lock_statement(rev: Revision) -> Iterator[Finding]:
    """VACUUM FULL and CLUSTER rewrite under ACCESS EXCLUSIVE; LOCK TABLE holds until commit."""
    for op, statement in rev.statements(rev.ops.upgrade):
        if not on_existing(rev, statement):
            continue
        tables = tables_label(statement)
        if statement.verb == "VACUUM" and statement.mode == "FULL":
            yield rev.finding(
                "table-lock-statement",
                op,
                f"VACUUM FULL rewrites {tables} under ACCESS EXCLUSIVE: no reads or writes "
                "until it finishes",
            )
        elif statement.verb == "CLUSTER":
            yield rev.finding(
                "table-lock-statement",
                op,
                f"CLUSTER rewrites {tables} under ACCESS EXCLUSIVE: no reads or writes until "
                "it finishes",
            )
        elif statement.verb == "LOCK TABLE" and op.in_autocommit:
            yield rev.finding(
                "table-lock-statement",
                op,
                "LOCK TABLE inside autocommit_block() fails: it can only run in a transaction",
            )
        elif statement.verb == "LOCK TABLE" and statement.mode in WRITE_BLOCKING_MODES:
            if statement.mode == "ACCESS EXCLUSIVE" and set(statement.tables) <= altered_after(
                rev, op
            ):
                continue  # it only fixes the order of locks the ALTERs take anyway
            blocked = "reads and writes" if statement.mode == "ACCESS EXCLUSIVE" else "writes"
            yield rev.finding(
                "table-lock-statement",
                op,
                f"LOCK TABLE {tables} IN {statement.mode} MODE blocks {blocked} until the "
                "migration commits",
            )


# Alembic operations that take ACCESS EXCLUSIVE on their table, as ALTER TABLE does
# unless PostgreSQL's docs note a weaker lock for the form.
ACCESS_EXCLUSIVE_OPS = {
    "add_column", "drop_column", "alter_column", "drop_constraint", "create_primary_key",
    "create_unique_constraint", "create_check_constraint", "rename_table", "drop_table",
}  # fmt: skip


def altered_after(rev: Revision, lock: Op) -> set[str]:
    """Tables that later statements of the LOCK's transaction take ACCESS EXCLUSIVE on.

    A LOCK TABLE ... IN ACCESS EXCLUSIVE MODE at the top of such a transaction
    holds nothing longer than those ALTERs would; it takes the locks in one order,
    so the migration cannot deadlock with a session that locks them the same way.
    """
    later = [
        op
        for op in rev.ops.upgrade[rev.ops.upgrade.index(lock) + 1 :]
        if op.segment == lock.segment and not op.in_autocommit
    ]
    tables = {op.table for op in later if op.name in ACCESS_EXCLUSIVE_OPS and op.table}
    for _, statement in rev.statements(later):
        if statement.table and any(
            action.kind != "VALIDATE" and action.constraint != "FOREIGN KEY"
            for action in statement.actions
        ):
            tables.add(statement.table)
    return tables


def check_type_change_rewrite(rev: Revision) -> Iterator[Finding]:
    """Type changes other than known widenings rewrite the table under ACCESS EXCLUSIVE."""
    for op in rev.upgrade("alter_column"):
        new = op.arg("type_")
        if new is None or is_none(new) or not rev.existing(op):
            continue
        column = f"{table_label(op)}.{op.name_arg('column_name') or '?'}"
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
    for op, statement, action in sql_actions(rev):
        if action.kind != "SET TYPE":
            continue
        yield rev.finding(
            "type-change-rewrite",
            op,
            f"changes the type of {statement.table}.{action.column} in SQL, where the old "
            "type is unknown, so a table rewrite cannot be ruled out",
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
                f"adds {table_label(op)}.{column.name or '?'} with {reason}; every existing row is "
                "rewritten under ACCESS EXCLUSIVE",
            )
    for op, statement, action in sql_actions(rev):
        if action.kind != "ADD COLUMN":
            continue
        volatile = VOLATILE_CALL.search(action.default or "")
        reason = f"a volatile default {volatile.group(1)}()" if volatile else action.generated
        if reason:
            yield rev.finding(
                "volatile-default",
                op,
                f"ADD COLUMN {statement.table}.{action.column} with {reason}; every existing row "
                "is rewritten under ACCESS EXCLUSIVE",
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
