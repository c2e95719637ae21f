"""Small readers for the AST shapes that Alembic revisions use."""

from __future__ import annotations

import ast
from collections.abc import Iterator

Scope = dict[str, ast.expr]
DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def callee_name(node: ast.AST) -> str | None:
    """The last name of a call's target: ``sa.text(...)`` and ``text(...)`` both give "text"."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    """The value passed as ``name=`` to a call, if any."""
    for item in call.keywords:
        if item.arg == name:
            return item.value
    return None


def is_true(node: ast.expr | None) -> bool:
    """True only for a literal ``True``; anything computed is treated as unknown (False)."""
    return isinstance(node, ast.Constant) and node.value is True


def is_false(node: ast.expr | None) -> bool:
    """True only for a literal ``False``."""
    return isinstance(node, ast.Constant) and node.value is False


def literal_name(node: ast.expr | None, scope: Scope | None = None) -> str | None:
    """A table, column or constraint name given as a string, ``op.f("...")`` or a constant."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Call) and callee_name(node) in {"f", "conv"} and node.args:
        return literal_name(node.args[0], scope)
    if isinstance(node, ast.Name) and scope and node.id in scope:
        return literal_name(scope[node.id], None)
    return None


def normalise_table(name: str | None) -> str | None:
    """Compare tables by bare lower-case name: ``"public"."Users"`` and ``users`` match."""
    if not name:
        return None
    last = name.split(".")[-1].strip().strip('"')
    return last.lower() or None


def collect_assignments(body: list[ast.stmt]) -> Scope:
    """Simple ``name = value`` bindings in a block, nested blocks included; the last one wins."""
    scope: Scope = {}
    for node in statements(body):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                scope[target.id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            scope[node.target.id] = node.value
    return scope


def statements(body: list[ast.stmt], into_definitions: bool = False) -> Iterator[ast.stmt]:
    """Every statement of a block in source order, nested blocks included.

    Expressions are not visited, which makes this several times cheaper than a
    full walk for the questions asked of statements (assignments, imports).
    """
    pending: list[ast.stmt] = list(reversed(body))
    while pending:
        node = pending.pop()
        yield node
        if isinstance(node, DEFINITIONS) and not into_definitions:
            continue
        nested: list[ast.stmt] = []
        for name in ("body", "handlers", "orelse", "finalbody", "cases"):
            for item in getattr(node, name, ()):
                if isinstance(item, ast.stmt):
                    nested.append(item)
                elif isinstance(item, ast.excepthandler | ast.match_case):
                    nested.extend(item.body)
        pending.extend(reversed(nested))


def walk_without_definitions(body: list[ast.stmt]) -> Iterator[ast.AST]:
    """Every node of a block in source order, without entering nested functions or classes.

    Iterative, so an expression of a thousand ``+`` terms does not exhaust the stack.
    """
    pending: list[ast.AST] = list(reversed(body))
    while pending:
        node = pending.pop()
        yield node
        children = [
            child for child in ast.iter_child_nodes(node) if not isinstance(child, DEFINITIONS)
        ]
        pending.extend(reversed(children))


def statement_spans(tree: ast.Module) -> list[tuple[int, int]]:
    """Line spans of simple statements, used to map a runtime line back to its statement."""
    spans: list[tuple[int, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and not isinstance(
            node,
            ast.FunctionDef
            | ast.AsyncFunctionDef
            | ast.ClassDef
            | ast.If
            | ast.For
            | ast.AsyncFor
            | ast.While
            | ast.With
            | ast.AsyncWith
            | ast.Try,
        ):
            spans.append((node.lineno, node.end_lineno or node.lineno))
    return spans
