"""Turning upgrade() and downgrade() into a flat list of operations with context.

Rules never walk the syntax tree themselves. They read ``Op`` records that
already know their table (also inside ``batch_alter_table``), whether they run
inside ``autocommit_block()``, and which names are in scope. Calls to
module-level helper functions are followed, so a backfill moved into
``_backfill(bind)`` is still seen.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field, replace
from typing import Literal

from .dialects import GuardReader, rebound_names
from .nodes import (
    Scope,
    callee_name,
    collect_assignments,
    keyword,
    literal_name,
    normalise_table,
    statements,
    walk_without_definitions,
)
from .orm import mapped_tables, orm_bulk_write, orm_loop_writes
from .source import RevisionSource
from .sqlsource import read_sql
from .sqltext import Statement

Function = Literal["upgrade", "downgrade"]

# Positional parameters of Operations methods, as in alembic.operations.Operations.
OP_PARAMS: dict[str, tuple[str, ...]] = {
    "add_column": ("table_name", "column"),
    "drop_column": ("table_name", "column_name"),
    "alter_column": ("table_name", "column_name"),
    "create_index": ("index_name", "table_name", "columns"),
    "drop_index": ("index_name", "table_name"),
    "create_foreign_key": (
        "constraint_name",
        "source_table",
        "referent_table",
        "local_cols",
        "remote_cols",
    ),
    "create_check_constraint": ("constraint_name", "table_name", "condition"),
    "create_unique_constraint": ("constraint_name", "table_name", "columns"),
    "create_primary_key": ("constraint_name", "table_name", "columns"),
    "create_exclude_constraint": ("constraint_name", "table_name"),
    "drop_constraint": ("constraint_name", "table_name", "type_"),
    "create_table": ("table_name",),
    "drop_table": ("table_name",),
    "rename_table": ("old_table_name", "new_table_name"),
    "execute": ("sqltext",),
    "bulk_insert": ("table", "rows"),
}
# BatchOperations methods take the same parameters minus the table.
TABLE_PARAMS = ("table_name", "source_table", "old_table_name")
EXECUTE_METHODS = {"execute", "exec_driver_sql"}
TRANSACTION_METHODS = {"commit", "rollback"}


@dataclass(frozen=True)
class OwnConnection:
    """A connection the revision opens itself (``with engine.connect() as conn``).

    It is not Alembic's: committing it is the revision's business, and a
    ``begin()`` block commits when it ends.
    """

    name: str
    method: str  # "connect" or "begin"
    loop: int  # the loop the with-statement sits in (0: none)


@dataclass(frozen=True, eq=False)
class Op:
    """One call that touches the database, with the context it runs in."""

    name: str
    call: ast.Call
    table: str | None
    function: Function
    in_autocommit: bool
    batch: bool
    scope: Scope = field(repr=False)
    loop: int = 0  # the innermost for/while around the call (0: none)
    receiver: str | None = None  # ``bind`` in ``bind.execute(...)``
    own_connection: OwnConnection | None = None  # when the receiver is one
    # Alembic's transaction this op runs in: autocommit_block() ends one and starts another.
    segment: int = 0
    # What an ORM write does, for ops that have no SQL argument (name "orm_write").
    statement: Statement | None = None

    @property
    def in_loop(self) -> bool:
        """Inside for/while: one statement per iteration."""
        return self.loop != 0

    def arg(self, param: str) -> ast.expr | None:
        """An argument by parameter name, whether passed by position or keyword."""
        params = OP_PARAMS.get(self.name, ())
        if self.batch:
            params = tuple(p for p in params if p not in TABLE_PARAMS)
        if param in params:
            index = params.index(param)
            positional = self.call.args
            if index < len(positional) and not isinstance(positional[index], ast.Starred):
                return positional[index]
        return keyword(self.call, param)

    def name_arg(self, param: str) -> str | None:
        """A name-valued argument (string, op.f() or a constant), normalised for comparison."""
        return normalise_table(literal_name(self.arg(param), self.scope))


@dataclass(frozen=True)
class _Context:
    """Where the walker is: which function, inside autocommit_block(), which batch aliases."""

    function: Function
    autocommit: bool = False
    batches: tuple[tuple[str, str | None], ...] = ()
    loop: int = 0
    connections: tuple[OwnConnection, ...] = ()

    def batch_table(self, alias: str) -> tuple[bool, str | None]:
        """Whether ``alias`` is a batch_alter_table() alias here, and its table."""
        for name, table in reversed(self.batches):
            if name == alias:
                return True, table
        return False, None

    def own_connection(self, alias: str | None) -> OwnConnection | None:
        """The connection the revision opened under ``alias``, if it did."""
        return next((c for c in reversed(self.connections) if c.name == alias), None)


class _Walker:
    """Collects Op records from one function, following module-level helpers."""

    def __init__(self, source: RevisionSource) -> None:
        self.tree = source.tree
        self.op_names, self.op_functions = _op_aliases(source.tree)
        self.module_scope = {
            **mapped_tables(source.tree),
            **collect_assignments(
                [node for node in source.tree.body if not isinstance(node, ast.FunctionDef)]
            ),
        }
        self.helpers = {
            node.name: node
            for node in source.tree.body
            if isinstance(node, ast.FunctionDef) and node.name not in {"upgrade", "downgrade"}
        }
        self.ops: list[Op] = []
        self.active: list[str] = []
        self.bodies: list[list[ast.stmt]] = []  # of the functions being walked
        self.rebound: dict[int, frozenset[str]] = {}
        self.segment = 0

    def function(self, node: ast.FunctionDef, label: Function) -> list[Op]:
        self.ops = []
        self._run(node, _Context(label))
        return self.ops

    def _run(self, node: ast.FunctionDef, ctx: _Context) -> None:
        self.active.append(node.name)
        self.bodies.append(node.body)
        scope = {**self.module_scope, **collect_assignments(node.body)}
        self._block(node.body, ctx, scope)
        self.bodies.pop()
        self.active.pop()

    def _block(self, body: list[ast.stmt], ctx: _Context, scope: Scope) -> bool:
        """Walk a block; True when it certainly leaves the function on PostgreSQL."""
        return any(self._statement(statement, ctx, scope) for statement in body)

    def _statement(self, node: ast.stmt, ctx: _Context, scope: Scope) -> bool:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            return False
        if isinstance(node, ast.With | ast.AsyncWith):
            return self._with(node, ctx, scope)
        if isinstance(node, ast.If):
            return self._if(node, ctx, scope)
        if isinstance(node, ast.For | ast.AsyncFor):
            self._orm_writes(node, ctx, scope)  # the loop as a whole: one transaction's writes
        if isinstance(node, ast.For | ast.AsyncFor | ast.While):
            ctx = replace(ctx, loop=id(node))
        for _, value in ast.iter_fields(node):
            self._field(value, ctx, scope)
        return isinstance(node, ast.Return | ast.Raise)

    def _unstable(self) -> frozenset[str]:
        """Names bound more than once, here or at module level: unknown at a dialect test.

        Worked out on the first ``if`` of a function: most revisions have none.
        """
        key = id(self.bodies[-1])
        if key not in self.rebound:
            module = [node for node in self.tree.body if not isinstance(node, ast.FunctionDef)]
            self.rebound[key] = rebound_names(module) | rebound_names(self.bodies[-1])
        return self.rebound[key]

    def _if(self, node: ast.If, ctx: _Context, scope: Scope) -> bool:
        """A dialect guard decided for PostgreSQL walks only the branch that runs there."""
        self._expression(node.test, ctx, scope)
        decided = GuardReader(scope, self.helpers, self._unstable()).value(node.test)
        if decided is True:
            return self._block(node.body, ctx, scope)
        if decided is False:
            return self._block(node.orelse, ctx, scope)
        self._block(node.body, ctx, scope)
        self._block(node.orelse, ctx, scope)
        return False

    def _table_of_written(self, call: ast.Call, scope: Scope) -> str | None:
        """``query(M).update({"role": ...})``: the table of a column added earlier, if any."""
        values = call.args[0] if call.args else None
        if not isinstance(values, ast.Dict):
            return None
        added = self._added_columns(scope)
        for key in values.keys:
            name = key.attr if isinstance(key, ast.Attribute) else literal_name(key)
            if name and name.lower() in added:
                return added[name.lower()]
        return None

    def _orm_writes(self, loop: ast.For | ast.AsyncFor, ctx: _Context, scope: Scope) -> None:
        """Rows a loop changes through the ORM, recorded as one UPDATE per table."""
        added = self._added_columns(scope)
        for assignment, table, filtered, by_id in orm_loop_writes(loop, scope, added):
            marker = ast.Call(func=ast.Name(id="orm_write", ctx=ast.Load()), args=[], keywords=[])
            statement = Statement("UPDATE", table=table, has_where=filtered, bounded=by_id)
            self._record(
                "orm_write", ast.copy_location(marker, assignment), ctx, scope, None, False,
                statement=statement,
            )  # fmt: skip

    def _added_columns(self, scope: Scope) -> dict[str, str]:
        """Columns added or altered so far in this function: name -> table."""
        added: dict[str, str] = {}
        for op in self.ops:
            if op.table and op.name in {"add_column", "alter_column"}:
                column = op.arg("column") if op.name == "add_column" else None
                if isinstance(column, ast.Name):
                    column = scope.get(column.id)
                if isinstance(column, ast.Call) and column.args:
                    name = literal_name(column.args[0], scope)
                else:
                    name = op.name_arg("column_name")
                if name:
                    added[name.lower()] = op.table
        return added

    def _field(self, value: object, ctx: _Context, scope: Scope) -> None:
        """Visit the expressions and nested blocks of a compound or simple statement."""
        if isinstance(value, ast.expr):
            self._expression(value, ctx, scope)
        elif isinstance(value, ast.stmt):
            self._statement(value, ctx, scope)
        elif isinstance(value, ast.excepthandler | ast.match_case):
            self._block(value.body, ctx, scope)
        elif isinstance(value, list):
            for item in value:
                self._field(item, ctx, scope)

    def _with(self, node: ast.With | ast.AsyncWith, ctx: _Context, scope: Scope) -> bool:
        """batch_alter_table() binds an alias to a table; autocommit_block() leaves the txn;
        ``x.connect()`` / ``x.begin()`` bind a connection of the revision's own."""
        inner = ctx
        autocommit = False
        for item in node.items:
            expr = item.context_expr
            name = callee_name(expr)
            if name == "autocommit_block":
                inner = replace(inner, autocommit=True)
                autocommit = not ctx.autocommit
            elif name in {"connect", "begin"} and isinstance(item.optional_vars, ast.Name):
                own = OwnConnection(item.optional_vars.id, name, ctx.loop)
                inner = replace(inner, connections=(*inner.connections, own))
                self._expression(expr, ctx, scope)
            elif name == "batch_alter_table" and isinstance(expr, ast.Call):
                table_arg = expr.args[0] if expr.args else keyword(expr, "table_name")
                table = normalise_table(literal_name(table_arg, scope))
                if isinstance(item.optional_vars, ast.Name):
                    alias = item.optional_vars.id
                    inner = replace(inner, batches=(*inner.batches, (alias, table)))
            else:
                self._expression(expr, ctx, scope)
        if autocommit:  # the block commits Alembic's transaction; a new one follows it
            self.segment += 1
        leaves = self._block(node.body, inner, scope)
        if autocommit:
            self.segment += 1
        return leaves

    def _expression(self, node: ast.expr, ctx: _Context, scope: Scope) -> None:
        """Every call inside an expression, nested calls included."""
        for inner in walk_without_definitions([ast.Expr(node)]):
            if isinstance(inner, ast.Call):
                self._call(inner, ctx, scope)

    def _call(self, call: ast.Call, ctx: _Context, scope: Scope) -> None:
        """Record op.*/batch_op.* operations, execute() and commit(); follow helpers."""
        func = call.func
        if isinstance(func, ast.Name) and func.id in self.helpers and func.id not in self.active:
            self._run(self.helpers[func.id], ctx)
            return
        if isinstance(func, ast.Name) and func.id in self.op_functions:
            self._record(self.op_functions[func.id], call, ctx, scope, None, False)
            return
        if not isinstance(func, ast.Attribute):
            return
        method = func.attr
        base = func.value.id if isinstance(func.value, ast.Name) else _dotted(func.value)
        is_batch, batch_table = ctx.batch_table(base) if base else (False, None)
        if method in {"update", "delete"} and (statement := orm_bulk_write(call, scope)):
            if statement.table is None:  # a model imported from the application
                statement = replace(statement, table=self._table_of_written(call, scope))
            self._record("orm_write", call, ctx, scope, None, False, statement=statement)
        elif (base in self.op_names or is_batch) and method in OP_PARAMS:
            self._record(method, call, ctx, scope, batch_table if is_batch else None, is_batch)
        elif method in EXECUTE_METHODS:
            self._record("execute", call, ctx, scope, batch_table, is_batch, base)
        elif method in TRANSACTION_METHODS and not call.args:
            self._record(method, call, ctx, scope, None, False, base)

    def _record(
        self,
        name: str,
        call: ast.Call,
        ctx: _Context,
        scope: Scope,
        batch_table: str | None,
        batch: bool,
        receiver: str | None = None,
        statement: Statement | None = None,
    ) -> None:
        """Store one operation; outside a batch block its table comes from its arguments."""
        op = Op(
            name=name,
            call=call,
            table=batch_table,
            function=ctx.function,
            in_autocommit=ctx.autocommit,
            batch=batch,
            scope=scope,
            loop=ctx.loop,
            receiver=receiver,
            own_connection=ctx.own_connection(receiver),
            segment=self.segment,
            statement=statement,
        )
        if statement is not None:
            op = replace(op, table=statement.table)
        elif not batch:
            table = next((op.name_arg(p) for p in TABLE_PARAMS if op.arg(p) is not None), None)
            op = replace(op, table=table)
        self.ops.append(op)


def _op_aliases(tree: ast.Module) -> tuple[set[str], dict[str, str]]:
    """Names bound to ``alembic.op``, and names bound to its functions.

    ``op`` by default; ``from alembic import op as x``, ``import alembic.op as x``
    and a plain ``import alembic`` (then ``alembic.op.drop_column``) add module
    names; ``from alembic.op import drop_column [as x]`` binds a function.
    """
    names = {"op"}
    functions: dict[str, str] = {}
    for node in statements(tree.body, into_definitions=True):
        if isinstance(node, ast.ImportFrom) and node.module == "alembic":
            names.update(alias.asname or alias.name for alias in node.names if alias.name == "op")
        elif isinstance(node, ast.ImportFrom) and node.module == "alembic.op":
            for alias in node.names:
                if alias.name in OP_PARAMS:
                    functions[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "alembic.op":
                    names.add(alias.asname or "alembic.op")
                elif alias.name == "alembic" and alias.asname:
                    names.add(f"{alias.asname}.op")
    names.add("alembic.op")
    return names, functions


def _dotted(node: ast.expr) -> str | None:
    """``alembic.op`` for the expression ``alembic.op``; None for anything but names."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


@dataclass(frozen=True)
class Operations:
    """Both functions' operations, plus what upgrade() creates (exempt from lock rules)."""

    upgrade: list[Op]
    downgrade: list[Op]

    @property
    def created_tables(self) -> set[str]:
        """Tables created by upgrade(): they are empty, so locking them harms nobody."""
        created: set[str] = set()
        for op in self.upgrade:
            if op.name == "create_table" and op.table:
                created.add(op.table)
            elif op.name == "execute":
                for statement in read_sql(op.arg("sqltext"), op.scope).statements():
                    if statement.verb == "CREATE TABLE" and statement.table:
                        created.add(statement.table)
        return created


def collect_operations(source: RevisionSource) -> Operations:
    """Walk both entry points once; rules share the result."""
    walker = _Walker(source)
    upgrade = walker.function(source.upgrade, "upgrade")
    downgrade = walker.function(source.downgrade, "downgrade") if source.downgrade else []
    return Operations(upgrade=upgrade, downgrade=downgrade)
