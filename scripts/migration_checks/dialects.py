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
from dataclasses import dataclass

from .nodes import Scope, callee_name, collect_assignments, walk_without_definitions
from .source import RevisionSource

POSTGRESQL_NAME = "postgresql"
# Attribute chains whose value is the dialect's name: bind.dialect.name, engine.name, ...
PRAGMA = re.compile(r"\s*PRAGMA\b", re.I)
NAME_TAILS = (("dialect", "name"), ("engine", "name"))


def sqlite_history(source: RevisionSource) -> bool:
    """The revision sits in a folder of SQLite revisions, below where it was found.

    ``versions/sqlite/``, a ``sqlite_versions`` entry of version_locations. Folders
    above the checked root (where the project happens to live) say nothing.
    """
    return any(_names_sqlite_history(folder) for folder in source.folders)


def runs_pragma(sql_texts: list[str]) -> bool:
    """PRAGMA exists only on SQLite: a revision that runs one on every dialect is SQLite's."""
    return any(PRAGMA.match(text) for text in sql_texts)


def _names_sqlite_history(folder: str) -> bool:
    """``sqlite``, ``sqlite_versions``, ``migrations-sqlite``: a folder of SQLite revisions.

    A project that lives in ``~/sqlite-tools/`` is not one: the name must be
    sqlite alone or say versions or migrations too.
    """
    name = folder.lower()
    return name == "sqlite" or ("sqlite" in name and ("version" in name or "migration" in name))


@dataclass(frozen=True)
class UrlText:
    """A database URL or driver name on PostgreSQL: it starts with "postgresql", and its
    driver and the rest are unknown (``postgresql+psycopg://...``, ``postgresql://...``)."""

    known: str = POSTGRESQL_NAME

    def startswith(self, prefix: str) -> bool | None:
        if self.known.startswith(prefix):
            return True
        return None if prefix.startswith(self.known) else False

    def equals(self, other: str) -> bool | None:
        return None if other.startswith(self.known) else False


class GuardReader:
    """Evaluates ``if`` tests about the dialect as they come out on PostgreSQL.

    ``unstable`` names are bound more than once in the function (a flag set in one
    branch, a name reused later): their value at the test is unknown.
    """

    def __init__(
        self, scope: Scope, helpers: dict[str, ast.FunctionDef], unstable: frozenset[str]
    ) -> None:
        self.scope = scope
        self.helpers = helpers
        self.unstable = unstable

    def value(self, node: ast.expr, depth: int = 0) -> object:
        """The test's value on PostgreSQL: a bool, a str or a UrlText when known, else None."""
        if depth > 8:
            return None
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, bool | str) else None
        if isinstance(node, ast.Name):
            bound = self.scope.get(node.id)
            if bound is None or node.id in self.unstable:
                return None
            return self.value(bound, depth + 1)
        if isinstance(node, ast.BoolOp):
            return self._bool_op(node, depth)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = self.value(node.operand, depth + 1)
            return (not inner) if isinstance(inner, bool) else None
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            return self._compare(node, depth)
        if isinstance(node, ast.Call):
            return self._call(node, depth)
        return _text(node)

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
            found = _contains(left, right_node)
            return None if found is None else found == isinstance(op, ast.In)
        right = self.value(right_node, depth + 1)
        if isinstance(right, UrlText):
            left, right = right, left
        if isinstance(left, UrlText):
            same = left.equals(right) if isinstance(right, str) else None
        elif left is None or right is None:
            return None
        else:
            same = left == right
        if same is None or not isinstance(op, ast.Eq | ast.Is | ast.NotEq | ast.IsNot):
            return None
        return same if isinstance(op, ast.Eq | ast.Is) else not same

    def _call(self, node: ast.Call, depth: int) -> object:
        func = node.func
        if callee_name(node) == "str" and node.args:
            return self.value(node.args[0], depth + 1)
        if isinstance(func, ast.Attribute) and func.attr in {"startswith", "endswith"}:
            text = self.value(func.value, depth + 1)
            prefixes = _strings(node.args[0]) if node.args else None
            if prefixes is None or not isinstance(text, str | UrlText):
                return None
            if isinstance(text, str):
                test = text.startswith if func.attr == "startswith" else text.endswith
                return any(test(prefix) for prefix in prefixes)
            if func.attr == "endswith":
                return None
            return _any_of([text.startswith(prefix) for prefix in prefixes])
        if isinstance(func, ast.Name) and func.id in self.helpers and not node.args:
            helper = self.helpers[func.id]
            returned = _final_return(helper)
            if returned is None:
                return None
            scope = {**self.scope, **collect_assignments(helper.body)}
            inner = GuardReader(scope, self.helpers, rebound_names(helper.body))
            return inner.value(returned, depth + 1)
        return _text(node)


# What a name must pass through to be the connection's URL rather than any object's.
CONNECTION_WORDS = {"get_bind", "bind", "engine", "connection", "conn", "get_context", "context"}


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


def _text(node: ast.expr) -> str | UrlText | None:
    """The dialect name (exact) or the URL (its start) an expression stands for on PostgreSQL."""
    tail = _tail(node)
    if tail[-2:] in NAME_TAILS or tail[-1:] == ("get_backend_name",):
        return POSTGRESQL_NAME
    on_connection = CONNECTION_WORDS.intersection(tail[:-1])
    if len(tail) > 1 and tail[-1] in {"url", "drivername"} and on_connection:
        return UrlText()
    return None


def _contains(left: object, container: ast.expr) -> bool | None:
    """``left in "..."`` (a substring) or ``left in ("a", "b")`` (a member), when known."""
    if isinstance(container, ast.Constant) and isinstance(container.value, str):
        return (left in container.value) if isinstance(left, str) else None
    options = _strings(container)
    if options is None:
        return None
    if isinstance(left, str):
        return left in options
    if isinstance(left, UrlText):
        return _any_of([left.equals(option) for option in options])
    return None


def _any_of(results: list[bool | None]) -> bool | None:
    """True if any is True, False if all are False, else unknown."""
    if True in results:
        return True
    return False if all(result is False for result in results) else None


def rebound_names(body: list[ast.stmt]) -> frozenset[str]:
    """Names a function binds more than once (assignments, loop and with targets, walrus)."""
    counts: dict[str, int] = {}
    for node in walk_without_definitions(body):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AugAssign | ast.AnnAssign | ast.NamedExpr):
            targets = [node.target]
        elif isinstance(node, ast.For | ast.AsyncFor):
            targets = [node.target, node.target]  # once per iteration: never stable
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            targets = [node.optional_vars]
        for target in targets:
            for name in ast.walk(target):
                if isinstance(name, ast.Name):
                    counts[name.id] = counts.get(name.id, 0) + 1
    return frozenset(name for name, count in counts.items() if count > 1)


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
