"""Which dialect a revision or a branch of it runs on.

The lock rules describe PostgreSQL. A revision kept for SQLite only, or a
branch guarded by ``if bind.dialect.name == "mysql":``, never runs there, so
those rules have nothing to say about it. Guards are evaluated as PostgreSQL
would see them; anything the checker cannot read stays "unknown" and both
branches are checked, as before.
"""

from __future__ import annotations

import ast
import re

from .nodes import Scope, callee_name, collect_assignments
from .source import RevisionSource
from .sqlsource import read_sql

POSTGRESQL_NAME = "postgresql"
# What str(engine.url) and url.drivername start with on PostgreSQL, whatever the driver.
POSTGRESQL_URL = "postgresql+driver://"
# Attribute chains whose value is the dialect's name: bind.dialect.name, engine.name, ...
PRAGMA = re.compile(r"\s*PRAGMA\b", re.I)
NAME_TAILS = (("dialect", "name"), ("engine", "name"))


def sqlite_only(source: RevisionSource) -> bool:
    """A revision that only ever runs on SQLite.

    Its folder says so (``versions/sqlite/``, a ``sqlite_versions`` entry of
    version_locations), or its upgrade() runs PRAGMA, which only SQLite knows.
    """
    if any(_names_sqlite_history(part) for part in source.path.resolve().parent.parts):
        return True
    if "pragma" not in source.text.lower():
        return False
    for node in ast.walk(source.upgrade):
        if isinstance(node, ast.Call) and callee_name(node) in {"execute", "exec_driver_sql"}:
            text = read_sql(node.args[0] if node.args else None, {}).text
            if text and PRAGMA.match(text):
                return True
    return False


def _tail(node: ast.expr) -> tuple[str, ...]:
    """The names along ``op.get_bind().dialect.name``: ("op", "get_bind", "dialect", "name")."""
    names: list[str] = []
    while True:
        if isinstance(node, ast.Attribute):
            names.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Call) and not node.args and isinstance(node.func, ast.Attribute):
            names.append(node.func.attr)
            node = node.func.value
        else:
            if isinstance(node, ast.Name):
                names.append(node.id)
            return tuple(reversed(names))


def _names_sqlite_history(folder: str) -> bool:
    """``sqlite``, ``sqlite_versions``, ``migrations-sqlite``: a folder of SQLite revisions.

    A project that lives in ``~/sqlite-tools/`` is not one: the name must be
    sqlite alone or say versions or migrations too.
    """
    name = folder.lower()
    return name == "sqlite" or ("sqlite" in name and ("version" in name or "migration" in name))


class GuardReader:
    """Evaluates ``if`` tests about the dialect as they come out on PostgreSQL."""

    def __init__(self, scope: Scope, helpers: dict[str, ast.FunctionDef]) -> None:
        self.scope = scope
        self.helpers = helpers

    def value(self, node: ast.expr, depth: int = 0) -> object:
        """The test's value on PostgreSQL: a bool or str when known, else None."""
        if depth > 8:
            return None
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, bool | str) else None
        if isinstance(node, ast.Name):
            bound = self.scope.get(node.id)
            return self.value(bound, depth + 1) if bound is not None else None
        if isinstance(node, ast.BoolOp):
            return self._bool_op(node, depth)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = self.value(node.operand, depth + 1)
            return (not inner) if isinstance(inner, bool) else None
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            return self._compare(node, depth)
        if isinstance(node, ast.Call):
            return self._call(node, depth)
        return self._text(node)

    def _text(self, node: ast.expr) -> str | None:
        """The dialect name or URL an expression stands for on PostgreSQL."""
        tail = _tail(node)
        if tail[-2:] in NAME_TAILS or tail[-1:] == ("get_backend_name",):
            return POSTGRESQL_NAME
        if len(tail) > 1 and tail[-1] in {"url", "drivername"}:
            return POSTGRESQL_URL
        return None

    def _bool_op(self, node: ast.BoolOp, depth: int) -> bool | None:
        values = [self.value(item, depth + 1) for item in node.values]
        known = [bool(v) for v in values if isinstance(v, bool)]
        if isinstance(node.op, ast.And):
            if False in known:
                return False
            return True if len(known) == len(values) else None
        if True in known:
            return True
        return False if len(known) == len(values) else None

    def _compare(self, node: ast.Compare, depth: int) -> bool | None:
        left = self.value(node.left, depth + 1)
        op, right_node = node.ops[0], node.comparators[0]
        if isinstance(op, ast.In | ast.NotIn):
            options = _strings(right_node)
            if not isinstance(left, str) or options is None:
                return None
            return (left in options) == isinstance(op, ast.In)
        right = self.value(right_node, depth + 1)
        if left is None or right is None:
            return None
        if isinstance(op, ast.Eq | ast.Is):
            return left == right
        if isinstance(op, ast.NotEq | ast.IsNot):
            return left != right
        return None

    def _call(self, node: ast.Call, depth: int) -> object:
        func = node.func
        if callee_name(node) == "str" and node.args:
            return self.value(node.args[0], depth + 1)
        if isinstance(func, ast.Attribute) and func.attr in {"startswith", "endswith"}:
            text = self.value(func.value, depth + 1)
            prefixes = _strings(node.args[0]) if node.args else None
            if not isinstance(text, str) or prefixes is None:
                return None
            test = text.startswith if func.attr == "startswith" else text.endswith
            return any(test(prefix) for prefix in prefixes)
        if isinstance(func, ast.Name) and func.id in self.helpers and not node.args:
            helper = self.helpers[func.id]
            returned = _final_return(helper)
            if returned is None:
                return None
            inner = GuardReader({**self.scope, **collect_assignments(helper.body)}, self.helpers)
            return inner.value(returned, depth + 1)
        return self._text(node)


def _strings(node: ast.expr) -> tuple[str, ...] | None:
    """A string, or a tuple/list/set of strings."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return (node.value,)
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        items = [item.value for item in node.elts if isinstance(item, ast.Constant)]
        if len(items) == len(node.elts) and all(isinstance(item, str) for item in items):
            return tuple(str(item) for item in items)
    return None


def _final_return(helper: ast.FunctionDef) -> ast.expr | None:
    """``def is_sqlite(): [assignments] return <expr>``: the expression, else None."""
    *before, last = helper.body
    straight = all(isinstance(node, ast.Assign | ast.AnnAssign | ast.Expr) for node in before)
    return last.value if straight and isinstance(last, ast.Return) else None


def ends_function(body: list[ast.stmt]) -> bool:
    """A block that always leaves the function: its last statement returns or raises."""
    return bool(body) and isinstance(body[-1], ast.Return | ast.Raise)
