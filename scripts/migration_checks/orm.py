"""ORM writes in a revision: what a Session updates, seen as UPDATE/DELETE statements.

A backfill written as ``session.query(Model).update({...})`` or as a loop that
assigns ``obj.column = value`` runs UPDATEs like any SQL backfill, and after DDL
on the same table it holds that DDL's lock just as long. Classes the revision
declares itself (``__tablename__ = "users"``) name their table; for a model
imported from the application, a write to a column the revision has just added
names it.
"""

from __future__ import annotations

import ast

from .nodes import Scope, callee_name, walk_without_definitions
from .sqlsource import table_of
from .sqltext import Statement

FILTERS = {"filter", "filter_by", "where"}


def mapped_tables(tree: ast.Module) -> Scope:
    """Module-level mapped classes as ``sa.table("name")`` calls, so table_of() reads them."""
    tables: Scope = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        for item in node.body:
            if (
                isinstance(item, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "__tablename__" for t in item.targets)
                and isinstance(item.value, ast.Constant)
                and isinstance(item.value.value, str)
            ):
                call = ast.Call(
                    func=ast.Name(id="table", ctx=ast.Load()),
                    args=[ast.Constant(value=item.value.value)],
                    keywords=[],
                )
                tables[node.name] = ast.copy_location(call, node)
    return tables


def _query_model(node: ast.expr) -> tuple[ast.expr | None, bool, bool]:
    """Down a ``session.query(M).filter(...)`` chain: M, whether it filters, by id or not."""
    filtered = by_id = False
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        name = node.func.attr
        if name == "query":
            return (node.args[0] if node.args else None), filtered, by_id
        if name in FILTERS:
            filtered = True
            by_id = by_id or _filters_by_id(node)
        node = node.func.value
    return None, filtered, by_id


def _filters_by_id(call: ast.Call) -> bool:
    """``filter(M.id == x)``, ``filter(M.id.in_(ids))`` or ``filter_by(id=x)``."""
    if any(keyword.arg == "id" for keyword in call.keywords):
        return True
    for arg in call.args:
        for inner in ast.walk(arg):
            if (
                isinstance(inner, ast.Compare)
                and isinstance(inner.ops[0], ast.Eq)
                and isinstance(inner.left, ast.Attribute)
                and inner.left.attr == "id"
            ):
                return True
            if callee_name(inner) == "in_" and isinstance(inner, ast.Call):
                target = inner.func.value if isinstance(inner.func, ast.Attribute) else None
                if isinstance(target, ast.Attribute) and target.attr == "id":
                    return True
    return False


def _model_table(model: ast.expr | None, scope: Scope) -> str | None:
    """``User`` or ``User.id`` (a column of it) as the table behind the model."""
    if isinstance(model, ast.Attribute):
        model = model.value
    return table_of(model, scope) if model is not None else None


def orm_bulk_write(call: ast.Call, scope: Scope) -> Statement | None:
    """``session.query(M)[.filter(...)].update({...})`` / ``.delete()`` as one statement."""
    func = call.func
    if not isinstance(func, ast.Attribute) or func.attr not in {"update", "delete"}:
        return None
    model, filtered, by_id = _query_model(func.value)
    if model is None:
        return None
    return Statement(
        "UPDATE" if func.attr == "update" else "DELETE",
        table=_model_table(model, scope),
        has_where=filtered,
        bounded=by_id,
    )


def orm_loop_writes(
    loop: ast.For | ast.AsyncFor, scope: Scope, added_columns: dict[str, str]
) -> list[tuple[ast.AST, str, bool, bool]]:
    """Each table whose rows the loop changes through the ORM.

    (first assignment, table, whether the rows are filtered, whether by primary key):
    a loop over ``session.query(M).filter(M.id.in_(ids))`` touches a known handful.
    ``added_columns`` maps a column name added earlier in the function to its table.
    The loop's rows are ORM objects when it assigns to their attributes.
    """
    targets = {
        node.target.id
        for node in walk_without_definitions([loop])
        if isinstance(node, ast.For | ast.AsyncFor) and isinstance(node.target, ast.Name)
    }
    queried = _iterated_model_table(loop.iter, scope)
    _, filtered, by_id = _query_model(_bound(loop.iter, scope))
    found: dict[str, tuple[ast.AST, bool, bool]] = {}
    for node in walk_without_definitions(loop.body):
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            if not (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id in targets
            ):
                continue
            own_row = isinstance(loop.target, ast.Name) and target.value.id == loop.target.id
            if own_row and queried:
                found.setdefault(queried, (node, filtered, by_id))
            elif table := added_columns.get(target.attr.lower()):
                found.setdefault(table, (node, False, False))
    return [(node, table, filtered, by_id) for table, (node, filtered, by_id) in found.items()]


def _bound(node: ast.expr, scope: Scope) -> ast.expr:
    """What a name stands for in scope (``rows = session.query(M).all()``), else the node."""
    if isinstance(node, ast.Name):
        return scope.get(node.id, node)
    return node


def _iterated_model_table(node: ast.expr, scope: Scope) -> str | None:
    """The table of the model a loop iterates: ``session.query(M)...`` directly or by name."""
    node = _bound(node, scope)
    for inner in ast.walk(node):
        if isinstance(inner, ast.Call) and callee_name(inner) in {"query", "select"}:
            return _model_table(inner.args[0] if inner.args else None, scope)
    return None
