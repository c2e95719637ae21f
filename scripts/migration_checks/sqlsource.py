"""Following an execute() argument through Python to the SQL it runs.

A revision passes SQL as a literal, a name bound to one, ``sa.text()``, an
f-string or ``%``/``.format()`` formatting, a dict of per-dialect statements,
or a SQLAlchemy Core ``update()``/``delete()`` construct. This module reads
those shapes from the syntax tree; sqltext.py reads the SQL text itself.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from .nodes import Scope, callee_name, literal_name, normalise_table
from .sqltext import Statement, classify, split_statements


@dataclass(frozen=True)
class SqlSource:
    """The SQL an expression evaluates to, as far as it can be read statically."""

    text: str | None = None
    formatted: bool = False
    core: Statement | None = None

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
        return SqlSource(text=_joined_text(node), formatted=_has_placeholder(node))
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
    )


def _joined_text(node: ast.JoinedStr) -> str:
    return "".join(
        part.value if isinstance(part, ast.Constant) and isinstance(part.value, str) else "x"
        for part in node.values
    )


def _has_placeholder(node: ast.JoinedStr) -> bool:
    return any(isinstance(part, ast.FormattedValue) for part in node.values)


def _binop_sql(node: ast.BinOp, scope: Scope, depth: int) -> SqlSource:
    """``"..." % args`` is formatting; ``"a" + b`` is formatting unless both sides are constant."""
    left = read_sql(node.left, scope, depth + 1)
    if isinstance(node.op, ast.Mod) and left.text is not None:
        return SqlSource(text=left.text, formatted=True)
    if isinstance(node.op, ast.Add):
        right = read_sql(node.right, scope, depth + 1)
        if left.text is None and right.text is None:
            return SqlSource()
        text = (left.text or "x") + (right.text or "x")
        formatted = left.formatted or right.formatted or left.text is None or right.text is None
        return SqlSource(text=text, formatted=formatted)
    return SqlSource()


def _call_sql(node: ast.Call, scope: Scope, depth: int) -> SqlSource:
    """sa.text(), .bindparams(), str.format() and Core update()/delete() chains."""
    name = callee_name(node)
    func = node.func
    if name == "text" and node.args:
        return read_sql(node.args[0], scope, depth + 1)
    if isinstance(func, ast.Attribute) and name == "format":
        inner = read_sql(func.value, scope, depth + 1)
        return SqlSource(text=inner.text, formatted=inner.text is not None)
    if isinstance(func, ast.Attribute) and name in {"bindparams", "columns", "execution_options"}:
        return read_sql(func.value, scope, depth + 1)
    core = read_core_dml(node, scope, depth)
    return SqlSource(core=core) if core else SqlSource()


def read_core_dml(node: ast.expr, scope: Scope, depth: int = 0) -> Statement | None:
    """``sa.update(t).where(...).values(...)`` and ``t.delete()`` as an UPDATE/DELETE statement."""
    if depth > 8:
        return None
    if isinstance(node, ast.Name):
        value = scope.get(node.id)
        return read_core_dml(value, scope, depth + 1) if value is not None else None
    if not isinstance(node, ast.Call):
        return None
    name = callee_name(node)
    func = node.func
    verbs = {"update": "UPDATE", "delete": "DELETE"}
    if name in verbs and isinstance(func, ast.Attribute) and not node.args:
        table = table_of(func.value, scope)
        if table is not None:
            return Statement(verbs[name], table=table)
    if name in verbs and node.args:
        return Statement(verbs[name], table=table_of(node.args[0], scope))
    if isinstance(func, ast.Attribute) and name in {"where", "filter", "values", "returning"}:
        inner = read_core_dml(func.value, scope, depth + 1)
        if inner is None or name not in {"where", "filter"}:
            return inner
        parameterized = inner.parameterized or _uses_variables(node, scope)
        return Statement(
            inner.verb,
            table=inner.table,
            has_where=True,
            bounded=inner.bounded,
            parameterized=parameterized,
        )
    return None


def table_of(node: ast.expr, scope: Scope) -> str | None:
    """The table name behind ``sa.table("users", ...)``, directly or through a variable."""
    if isinstance(node, ast.Name):
        node = scope.get(node.id, node)
    if isinstance(node, ast.Call) and callee_name(node) in {"table", "Table"} and node.args:
        return normalise_table(literal_name(node.args[0]))
    return None


def _uses_variables(call: ast.Call, scope: Scope) -> bool:
    """A where() that compares with Python variables or bindparam() is parameterised.

    Names used as ``x.attr`` (modules, table objects) or as a called function are
    not values; any other bare name is a Python value bound into the statement.
    """
    not_values: set[int] = set()
    for arg in call.args:
        for inner in ast.walk(arg):
            if isinstance(inner, ast.Attribute):
                not_values.add(id(inner.value))
            elif isinstance(inner, ast.Call):
                if callee_name(inner) == "bindparam":
                    return True
                not_values.add(id(inner.func))
    for arg in call.args:
        for inner in ast.walk(arg):
            if (
                isinstance(inner, ast.Name)
                and id(inner) not in not_values
                and table_of(inner, scope) is None
            ):
                return True
    return False
