"""Following an execute() argument through Python to the SQL it runs.

A revision passes SQL as a literal, a name bound to one, ``sa.text()``, an
f-string or ``%``/``.format()`` formatting, a dict of per-dialect statements,
or a SQLAlchemy Core construct: ``update()``/``delete()``/``insert()``/``select()``
on a table declared with ``sa.table()``, ``sa.Table(..., autoload_with=...)`` or
reflected into ``MetaData.tables``. This module reads those shapes from the
syntax tree; sqltext.py reads the SQL text itself.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace

from .nodes import Scope, callee_name, keyword, literal_name, normalise_table
from .sqltext import Statement, classify, split_statements

CORE_VERBS = {"update": "UPDATE", "delete": "DELETE", "insert": "INSERT", "select": "SELECT"}
FILTERS = {"where", "filter"}
# Operators that keep integers numeric: the result prints as digits (or a float), never SQL.
ARITHMETIC = (
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.FloorDiv,
    ast.Mod,
    ast.Pow,
    ast.LShift,
    ast.RShift,
    ast.BitAnd,
    ast.BitOr,
    ast.BitXor,
)


@dataclass(frozen=True)
class SqlSource:
    """The SQL an expression evaluates to, as far as it can be read statically.

    ``values`` holds the Python expressions formatted into the text, so a rule
    can tell an inserted constant from an inserted string.
    """

    text: str | None = None
    formatted: bool = False
    core: Statement | None = None
    values: tuple[ast.expr, ...] = ()

    def statements(self) -> list[Statement]:
        """Statements of the literal text, or the Core construct's single statement."""
        if self.core is not None:
            return [self.core]
        if self.text is None:
            return []
        return [classify(part) for part in split_statements(self.text)]


def read_sql(node: ast.expr | None, scope: Scope, depth: int = 0) -> SqlSource:
    """Follow an execute() argument through names, sa.text(), bindparams() and formatting."""
    if node is None or depth > 8:
        return SqlSource()
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return SqlSource(text=node.value)
    if isinstance(node, ast.Name):
        return read_sql(scope.get(node.id), scope, depth + 1)
    if isinstance(node, ast.JoinedStr):
        values = _formatted_values(node)
        return SqlSource(text=_joined_text(node), formatted=bool(values), values=values)
    if isinstance(node, ast.BinOp):
        return _binop_sql(node, scope, depth)
    if isinstance(node, ast.Call):
        return _call_sql(node, scope, depth)
    if isinstance(node, ast.Subscript):
        return _subscript_sql(node, scope, depth)
    return SqlSource()


def _subscript_sql(node: ast.Subscript, scope: Scope, depth: int) -> SqlSource:
    """``STATEMENTS[dialect]`` over a dict literal: every value, one statement each."""
    mapping = node.value
    if isinstance(mapping, ast.Name):
        mapping = scope.get(mapping.id, mapping)
    if not isinstance(mapping, ast.Dict) or not mapping.values:
        return SqlSource()
    sources = [read_sql(value, scope, depth + 1) for value in mapping.values]
    if any(source.text is None for source in sources):
        return SqlSource()
    return SqlSource(
        text=";\n".join(source.text or "" for source in sources),
        formatted=any(source.formatted for source in sources),
        values=tuple(value for source in sources for value in source.values),
    )


def _joined_text(node: ast.JoinedStr) -> str:
    return "".join(
        part.value if isinstance(part, ast.Constant) and isinstance(part.value, str) else "x"
        for part in node.values
    )


def _formatted_values(node: ast.JoinedStr) -> tuple[ast.expr, ...]:
    """The expressions of an f-string's placeholders, those of a ``{x:{width}}`` spec included."""
    values: list[ast.expr] = []
    for part in node.values:
        if isinstance(part, ast.FormattedValue):
            values.append(part.value)
            if isinstance(part.format_spec, ast.JoinedStr):
                values.extend(_formatted_values(part.format_spec))
    return tuple(values)


def _binop_sql(node: ast.BinOp, scope: Scope, depth: int) -> SqlSource:
    """``"..." % args`` is formatting; ``"a" + b`` is formatting unless both sides are constant."""
    left = read_sql(node.left, scope, depth + 1)
    if isinstance(node.op, ast.Mod) and left.text is not None:
        args = node.right
        if isinstance(args, ast.Tuple):
            inserted: tuple[ast.expr, ...] = tuple(args.elts)
        elif isinstance(args, ast.Dict):
            inserted = tuple(args.values)
        else:
            inserted = (args,)
        return SqlSource(text=left.text, formatted=True, values=left.values + inserted)
    if isinstance(node.op, ast.Add):
        right = read_sql(node.right, scope, depth + 1)
        if left.text is None and right.text is None:
            return SqlSource()
        text = (left.text or "x") + (right.text or "x")
        formatted = left.formatted or right.formatted or left.text is None or right.text is None
        values = left.values + right.values
        for side, read in ((node.left, left), (node.right, right)):
            values += (side,) if read.text is None else ()
        return SqlSource(text=text, formatted=formatted, values=values)
    return SqlSource()


def _call_sql(node: ast.Call, scope: Scope, depth: int) -> SqlSource:
    """sa.text(), .bindparams(), str.format() and Core statements."""
    name = callee_name(node)
    func = node.func
    if name == "text" and node.args:
        return read_sql(node.args[0], scope, depth + 1)
    if isinstance(func, ast.Attribute) and name == "format":
        inner = read_sql(func.value, scope, depth + 1)
        if inner.text is None:
            return SqlSource()
        inserted = tuple(node.args) + tuple(item.value for item in node.keywords)
        return SqlSource(text=inner.text, formatted=True, values=inner.values + inserted)
    if isinstance(func, ast.Attribute) and name in {"bindparams", "columns", "execution_options"}:
        return read_sql(func.value, scope, depth + 1)
    core = read_core_dml(node, scope, depth)
    return SqlSource(core=core) if core else SqlSource()


def read_core_dml(node: ast.expr, scope: Scope, depth: int = 0) -> Statement | None:
    """A Core construct as the statement it runs: UPDATE, DELETE, INSERT or SELECT.

    ``sa.update(t).where(...).values(...)``, ``t.delete()``, ``sa.insert(t)``,
    ``t.insert().values(...)``, ``sa.select(...)`` and ``t.select()``; methods
    chained after the constructor (``values``, ``limit``, ``order_by`` ...) keep
    the statement, and ``where()``/``filter()`` give it a WHERE clause.
    """
    if depth > 8:
        return None
    if isinstance(node, ast.Name):
        value = scope.get(node.id)
        return read_core_dml(value, scope, depth + 1) if value is not None else None
    if not isinstance(node, ast.Call):
        return None
    name = callee_name(node)
    if name in CORE_VERBS and (statement := _core_constructor(node, name, scope)):
        return statement
    if not isinstance(node.func, ast.Attribute):
        return None
    inner = read_core_dml(node.func.value, scope, depth + 1)
    if inner is None or name not in FILTERS:
        return inner
    return _filtered(inner, node.args, scope)


def _core_constructor(node: ast.Call, name: str, scope: Scope) -> Statement | None:
    """``t.update()`` on a known table, ``sa.update(t)``, and ``insert``/``select`` either way.

    A bare ``x.update()``/``x.delete()`` on an unknown receiver may be anything, so it
    is not read; ``x.insert()``/``x.select()`` inside execute() are Core statements.
    """
    verb = CORE_VERBS[name]
    func = node.func
    receiver = table_of(func.value, scope) if isinstance(func, ast.Attribute) else None
    if receiver is not None:
        statement = Statement(verb, table=receiver)
        # SQLAlchemy 1.x: t.update(whereclause), t.delete(whereclause), t.select(whereclause)
        where = keyword(node, "whereclause")
        if where is None and node.args and verb != "INSERT":
            where = node.args[0]
        return _filtered(statement, [where], scope) if where is not None else statement
    if node.args:
        return Statement(verb, table=table_of(node.args[0], scope))
    return Statement(verb) if verb in {"INSERT", "SELECT"} else None


def _filtered(statement: Statement, conditions: list[ast.expr], scope: Scope) -> Statement:
    """A where(): a WHERE clause, bounded by a primary-key lookup among its conditions."""
    return replace(
        statement,
        has_where=True,
        bounded=statement.bounded or any(_bounds_by_key(c, scope) for c in conditions),
        parameterized=statement.parameterized or _uses_variables(conditions, scope),
    )


def _bounds_by_key(condition: ast.expr, scope: Scope, depth: int = 0) -> bool:
    """``id == value`` or ``id.in_(values)``, alone or AND-ed with other conditions.

    Like ``WHERE id = ...`` in text SQL, such a lookup touches a known handful of
    rows; ``user_id == x`` or ``status == "x"`` can match every row.
    """
    if depth > 8:
        return False
    if isinstance(condition, ast.Name) and condition.id in scope:
        return _bounds_by_key(scope[condition.id], scope, depth + 1)
    if isinstance(condition, ast.BinOp) and isinstance(condition.op, ast.BitAnd):
        sides = [condition.left, condition.right]
        return any(_bounds_by_key(side, scope, depth + 1) for side in sides)
    if isinstance(condition, ast.Call) and callee_name(condition) == "and_":
        return any(_bounds_by_key(arg, scope, depth + 1) for arg in condition.args)
    if (
        isinstance(condition, ast.Compare)
        and len(condition.ops) == 1
        and isinstance(condition.ops[0], ast.Eq)
    ):
        left, right = condition.left, condition.comparators[0]
        return any(
            _column_name(column, scope) == "id" and _column_name(value, scope) is None
            for column, value in ((left, right), (right, left))
        )
    if (
        isinstance(condition, ast.Call)
        and isinstance(condition.func, ast.Attribute)
        and condition.func.attr == "in_"
    ):
        column = condition.func.value
        return _column_name(column, scope) == "id" and not _has_subquery(condition.args, scope)
    return False


def _column_name(node: ast.expr, scope: Scope) -> str | None:
    """The column in ``t.c.name``, ``t.c["name"]``, ``sa.column("name")`` or ``Model.name``.

    ``row.id`` is a value, not a column: only a capitalised name (a model class) or
    a known table counts as the owner of a bare attribute.
    """
    name: str | None = None
    if isinstance(node, ast.Attribute) and _owns_columns(node.value, scope):
        name = node.attr
    elif (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Attribute)
        and node.value.attr in {"c", "columns"}
    ):
        name = literal_name(node.slice, scope)
    elif isinstance(node, ast.Call) and callee_name(node) in {"column", "literal_column"}:
        name = literal_name(node.args[0], scope) if node.args else None
    return normalise_table(name)


def _owns_columns(owner: ast.expr, scope: Scope) -> bool:
    """``t.c`` / ``t.columns``, a capitalised name (a model class) or a known table."""
    if isinstance(owner, ast.Attribute):
        return owner.attr in {"c", "columns"}
    if isinstance(owner, ast.Name):
        return owner.id[:1].isupper() or table_of(owner, scope) is not None
    return False


def _has_subquery(args: list[ast.expr], scope: Scope) -> bool:
    """``id.in_(sa.select(...))`` can match every row, unlike a list of ids."""
    for arg in args:
        if isinstance(arg, ast.Name):
            arg = scope.get(arg.id, arg)
        for inner in ast.walk(arg):
            if callee_name(inner) in {"select", "subquery", "scalar_subquery"}:
                return True
    return False


def table_of(node: ast.expr, scope: Scope, depth: int = 0) -> str | None:
    """The table behind a Core table expression, directly or through variables.

    ``sa.table("users", ...)``, ``sa.Table("users", meta, autoload_with=bind)``,
    ``meta.tables["users"]`` (or ``.get("users")``) after ``meta.reflect()``, and
    ``Model.__table__``: reflected tables are as real as declared ones.
    """
    if depth > 8:
        return None
    if isinstance(node, ast.Name):
        bound = scope.get(node.id)
        return table_of(bound, scope, depth + 1) if bound is not None else None
    if isinstance(node, ast.Call) and callee_name(node) in {"table", "Table"} and node.args:
        return normalise_table(literal_name(node.args[0], scope))
    if isinstance(node, ast.Subscript) and _is_metadata_tables(node.value):
        return normalise_table(literal_name(node.slice, scope))
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and _is_metadata_tables(node.func.value)
        and node.args
    ):
        return normalise_table(literal_name(node.args[0], scope))
    if isinstance(node, ast.Attribute) and node.attr == "__table__":
        return table_of(node.value, scope, depth + 1)
    return None


def _is_metadata_tables(node: ast.expr) -> bool:
    """``meta.tables`` or ``Base.metadata.tables``: MetaData's dict of tables."""
    return isinstance(node, ast.Attribute) and node.attr == "tables"


def _uses_variables(conditions: list[ast.expr], scope: Scope) -> bool:
    """A where() that compares with Python variables or bindparam() is parameterised.

    Names used as ``x.attr`` (modules, table objects) or as a called function are
    not values; any other bare name is a Python value bound into the statement.
    """
    not_values: set[int] = set()
    for condition in conditions:
        for inner in ast.walk(condition):
            if isinstance(inner, ast.Attribute):
                not_values.add(id(inner.value))
            elif isinstance(inner, ast.Call):
                if callee_name(inner) == "bindparam":
                    return True
                not_values.add(id(inner.func))
    for condition in conditions:
        for inner in ast.walk(condition):
            if (
                isinstance(inner, ast.Name)
                and id(inner) not in not_values
                and table_of(inner, scope) is None
            ):
                return True
    return False


def formats_only_inert_values(source: SqlSource, tree: ast.Module) -> bool:
    """Every value formatted into the SQL is an integer constant or a quoted identifier.

    Integers computed from integer literals print as digits (``BATCH = 1000``
    then ``f"... LIMIT {BATCH}"``), and a name passed through the dialect's
    ``quote()`` (``identifier_preparer.quote(role)``) cannot break out of its
    quotes: neither can inject SQL, and an identifier cannot be a bound
    parameter. A name counts only when every binding it has in its scope assigns
    such a value (``offset = 0`` and ``offset += BATCH`` included); a string, a
    loop variable, an argument or any other call does not.
    """
    if not source.values:
        return False
    inert = _InertValues(tree)
    return all(inert.is_inert(value) for value in source.values)


Binding = ast.expr | ast.AugAssign | None  # None: bound some other way (loop, import, ...)
# SQLAlchemy's identifier_preparer.quote(), and the usual names of such helpers.
QUOTING_CALLS = {"quote", "quote_identifier", "quote_ident"}


class _InertValues:
    """Which expressions of one module are integer constants or quoted identifiers."""

    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self.parents = {
            id(child): parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)
        }
        self.declared_global = {
            name for node in ast.walk(tree) if isinstance(node, ast.Global) for name in node.names
        }
        self.cache: dict[int, dict[str, list[Binding]]] = {}

    def is_inert(self, node: ast.expr, seen: frozenset[tuple[int, str]] = frozenset()) -> bool:
        if isinstance(node, ast.Constant):
            return type(node.value) is int
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd | ast.Invert):
            return self.is_inert(node.operand, seen)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ARITHMETIC):
            return self.is_inert(node.left, seen) and self.is_inert(node.right, seen)
        if isinstance(node, ast.Call):
            return callee_name(node) in QUOTING_CALLS
        if isinstance(node, ast.Name) and id(node) in self.parents:
            return self._inert_name(node, seen)
        return False

    def _inert_name(self, node: ast.Name, seen: frozenset[tuple[int, str]]) -> bool:
        """Resolve the name the way Python does, then require every binding to be inert."""
        for scope in self._scopes(node):
            bindings = self._bindings(scope).get(node.id)
            if bindings is None:
                continue
            if scope is self.tree and node.id in self.declared_global:
                return False
            key = (id(scope), node.id)
            if key in seen:  # n += n: inert if every other binding is
                return True
            inner = seen | {key}
            return all(self._inert_binding(binding, inner) for binding in bindings)
        return False

    def _inert_binding(self, binding: Binding, seen: frozenset[tuple[int, str]]) -> bool:
        if binding is None:
            return False
        if isinstance(binding, ast.AugAssign):
            return isinstance(binding.op, ARITHMETIC) and self.is_inert(binding.value, seen)
        return self.is_inert(binding, seen)

    def _scopes(self, node: ast.AST) -> list[ast.AST]:
        """Enclosing functions innermost first (a class only when innermost), then the module."""
        scopes: list[ast.AST] = []
        parent = self.parents.get(id(node))
        while parent is not None:
            is_function = isinstance(parent, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if is_function or (isinstance(parent, ast.ClassDef) and not scopes):
                scopes.append(parent)
            parent = self.parents.get(id(parent))
        return [*scopes, self.tree]

    def _bindings(self, scope: ast.AST) -> dict[str, list[Binding]]:
        """Every way each name is bound directly in a scope (nested functions excluded)."""
        if id(scope) in self.cache:
            return self.cache[id(scope)]
        found: dict[str, list[Binding]] = {}
        body: list[ast.AST] = []
        if isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            arguments = scope.args
            for arg in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs):
                found.setdefault(arg.arg, []).append(None)
            for arg in (arguments.vararg, arguments.kwarg):
                if arg is not None:
                    found.setdefault(arg.arg, []).append(None)
            body = [scope.body] if isinstance(scope, ast.Lambda) else list(scope.body)
        elif isinstance(scope, ast.Module | ast.ClassDef):
            body = list(scope.body)
        for name, binding in _scope_bindings(body):
            found.setdefault(name, []).append(binding)
        self.cache[id(scope)] = found
        return found


def _scope_bindings(body: list[ast.AST]) -> list[tuple[str, Binding]]:
    """(name, binding) for each binding in a block, without entering nested scopes."""
    bindings: list[tuple[str, Binding]] = []
    assigned: set[int] = set()
    for node in _scope_walk(body):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigned.add(id(target))
                    bindings.append((target.id, node.value))
        elif isinstance(node, ast.AnnAssign | ast.AugAssign) and isinstance(node.target, ast.Name):
            assigned.add(id(node.target))
            if isinstance(node, ast.AugAssign):
                bindings.append((node.target.id, node))
            elif node.value is not None:
                bindings.append((node.target.id, node.value))
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            if id(node) not in assigned:
                bindings.append((node.id, None))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bindings.append((node.name, None))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            bindings.extend(((a.asname or a.name).split(".")[0], None) for a in node.names)
        elif isinstance(node, ast.Global | ast.Nonlocal):
            bindings.extend((name, None) for name in node.names)
        elif isinstance(node, ast.ExceptHandler | ast.MatchAs | ast.MatchStar) and node.name:
            bindings.append((node.name, None))
        elif isinstance(node, ast.MatchMapping) and node.rest:
            bindings.append((node.rest, None))
    return bindings


def _scope_walk(body: list[ast.AST]) -> list[ast.AST]:
    """Nodes of a block in pre-order; nested functions and classes are yielded, not entered."""
    nodes: list[ast.AST] = []
    stack = list(reversed(body))
    while stack:
        node = stack.pop()
        nodes.append(node)
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            stack.extend(reversed(list(ast.iter_child_nodes(node))))
    return nodes
