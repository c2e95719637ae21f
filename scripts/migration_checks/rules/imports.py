"""Which imports of a revision bring in application models (the model-import rule).

A revision is a snapshot; a model class follows today's code. What counts is a
mapped class, not any import of the application: ``from app.models import db``
used as ``db.Integer`` is a database handle, and an Enum passed to
``sa.Enum()`` is a value list. So a name is a model when it is a CapWords name
from a ``models``/``model`` module, or when the revision uses it the way only
a mapped class (or table) is used: ``X.__table__``, ``session.query(X)``,
``select(X)``, ``session.add(X(...))``.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass

from ..nodes import callee_name, statements

MODEL_PARTS = {"models", "model"}
# Packages whose classes are never the application's models.
LIBRARY_PREFIXES = ("sqlalchemy", "alembic")
LIBRARIES = {"sqlalchemy_utils", "geoalchemy2", "pydantic", "typing_extensions", "__future__"}
# What Flask-SQLAlchemy's ``db`` (and ``sa``-like namespaces) re-export:
# ``db.Integer`` or ``db.Column`` reached through a models module is not a model.
SQLALCHEMY_NAMES = {
    "ARRAY", "BigInteger", "Boolean", "CheckConstraint", "Column", "Computed", "Date",
    "DateTime", "DeclarativeBase", "Double", "Enum", "Float", "ForeignKey",
    "ForeignKeyConstraint", "Identity", "Index", "Integer", "Interval", "JSON", "LargeBinary",
    "Mapped", "MetaData", "Model", "Numeric", "PickleType", "PrimaryKeyConstraint", "Query",
    "Sequence", "Session", "SmallInteger", "String", "Table", "Text", "Time", "TypeDecorator",
    "Unicode", "UnicodeText", "UniqueConstraint", "Uuid",
}  # fmt: skip
# Attributes only a mapped class (or a Table) has.
MAPPED_ATTRIBUTES = {"__table__", "__tablename__", "__mapper__", "query", "c", "columns"}
# Calls whose arguments name what they read or write: X or X.column there is a model.
QUERY_CALLS = {
    "query", "select", "update", "delete", "insert", "filter", "where", "order_by",
    "group_by", "having", "join", "outerjoin",
}  # fmt: skip
# Table methods called without arguments: ``users.insert()``.
TABLE_METHODS = {"insert", "update", "delete", "select"}
ADD_CALLS = {"add", "add_all", "merge"}


@dataclass(frozen=True)
class _Binding:
    """A name an import statement binds, and the dotted path it stands for."""

    local: str
    path: str  # "app.models.User" for `from app.models import User`; ".models" when relative
    statement: ast.Import | ast.ImportFrom
    imported: str | None = None  # `import app.models` binds "app" but imports app.models


@dataclass(frozen=True)
class ModelImport:
    """One imported model, why it counts as one, and the statement that imports it."""

    statement: ast.Import | ast.ImportFrom
    name: str
    module: str
    how: str | None  # "used as models.Role", or the use that shows it is mapped


def is_model_module(module: str) -> bool:
    """A module path with a ``models``/``model`` part, outside the libraries."""
    parts = [part for part in module.split(".") if part]
    return not is_library(module) and any(part in MODEL_PARTS for part in parts)


def is_library(module: str) -> bool:
    """Standard library and the database libraries: their classes are not the app's."""
    if module.startswith("."):
        return False  # relative: the application's own package
    top = module.split(".")[0]
    return top.startswith(LIBRARY_PREFIXES) or top in LIBRARIES or top in sys.stdlib_module_names


def is_capwords(name: str) -> bool:
    """``User``, ``IncidentType``; not ``db``, ``UUID`` or ``DISPATCH_KEY``."""
    return name[:1].isupper() and any(char.islower() for char in name)


def model_imports(tree: ast.Module) -> Iterator[ModelImport]:
    """Every application model the revision imports, in source order."""
    shadowed = _shadowed(tree)
    bindings: dict[str, list[_Binding]] = {}
    for statement in _import_statements(tree):
        if isinstance(statement, ast.ImportFrom) and any(a.name == "*" for a in statement.names):
            module = _from_module(statement)
            if is_model_module(module):
                yield ModelImport(statement, "*", module, None)
            continue
        for binding in _bindings(statement):
            if (id(statement), binding.local) not in shadowed and not is_library(binding.path):
                bindings.setdefault(binding.local, []).append(binding)
                module, name = _split(binding.path)
                if is_capwords(name) and is_model_module(module):
                    yield ModelImport(statement, name, module, None)
    if not bindings:  # nothing imported from the application: no use to look for
        return
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    uses = _MappedUses(tree, parents)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in bindings:
            for binding in bindings[node.id]:
                found = _reached_model(binding, node, parents, uses)
                if found is not None:
                    yield found


def _reached_model(
    binding: _Binding, name: ast.Name, parents: dict[ast.AST, ast.AST], uses: _MappedUses
) -> ModelImport | None:
    """The model one use of an imported name reaches, if it reaches one.

    ``User.__table__`` reaches User itself; ``models.Role.__table__`` reaches
    Role through the module; ``db.Integer`` and ``db.session`` reach nothing.
    """
    node: ast.expr = name
    path = binding.path
    parent = parents.get(node)
    # Down the attribute chain to its first CapWords part: the class it names.
    while (
        not is_capwords(_split(path)[1])
        and isinstance(parent, ast.Attribute)
        and parent.value is node
    ):
        node, path = parent, f"{path}.{parent.attr}"
        parent = parents.get(node)
    if binding.imported and not f"{path}.".startswith(f"{binding.imported}."):
        return None  # `import app.config` does not reach app.models.User
    module, leaf = _split(path)
    if not is_capwords(leaf):
        node, (module, leaf) = name, _split(binding.path)  # the object itself: a table?
    elif node is not name and leaf in SQLALCHEMY_NAMES:
        return None  # db.Integer, db.Column: a namespace, not a model
    if is_model_module(module) and is_capwords(leaf):
        # Imported by name, it was reported at its import; reached through the module, here.
        if node is name:
            return None
        return ModelImport(binding.statement, leaf, module, f"used as {ast.unparse(node)}")
    evidence = uses.evidence(node)
    if evidence is None or not (is_capwords(leaf) or is_model_module(module)):
        return None
    return ModelImport(binding.statement, leaf, module, f"used as a mapped class: {evidence}")


class _MappedUses:
    """Whether an expression is used the way only a mapped class or a table is."""

    def __init__(self, tree: ast.Module, parents: dict[ast.AST, ast.AST]) -> None:
        self.parents = parents
        # Names passed to session.add()/add_all()/merge(), anywhere in the module.
        self.added: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and (method := callee_name(node)) in ADD_CALLS:
                for argument in [*node.args, *(k.value for k in node.keywords)]:
                    for name in ast.walk(argument):
                        if isinstance(name, ast.Name):
                            self.added.setdefault(name.id, method)

    def evidence(self, node: ast.expr) -> str | None:
        """A short quote of the use that shows ``node`` is a model, or None."""
        label = ast.unparse(node)
        parent = self.parents.get(node)
        if isinstance(parent, ast.Attribute) and parent.attr in MAPPED_ATTRIBUTES:
            return f"{label}.{parent.attr}"
        if (
            isinstance(parent, ast.Attribute)
            and parent.attr in TABLE_METHODS
            and isinstance(call := self.parents.get(parent), ast.Call)
            and call.func is parent
            and not call.args
        ):
            return f"{label}.{parent.attr}()"
        if isinstance(parent, ast.Call) and parent.func is node:
            return self._added(parent, label)
        column = self._column(node)
        argument = column or node
        call = self._enclosing_call(argument, direct=column is None)
        if call is not None:
            return f"{callee_name(call)}({ast.unparse(argument)})"
        if column is None and self._bulk_insert_table(node):
            return f"bulk_insert({label}, ...)"
        return None

    def _column(self, node: ast.expr) -> ast.Attribute | None:
        """``User.email`` where a column goes: an argument, the left of a comparison,
        or the receiver of a column method. ``Status.active`` on the right is a value."""
        attribute = self.parents.get(node)
        if not isinstance(attribute, ast.Attribute) or attribute.attr.isupper():
            return None
        after = self.parents.get(attribute)
        if isinstance(after, ast.Call):
            return attribute if after.func is not attribute else None
        if isinstance(after, ast.keyword | ast.List | ast.Tuple):
            return attribute
        if isinstance(after, ast.Compare):
            return attribute if after.left is attribute else None
        if isinstance(after, ast.Attribute) and after.attr not in {"value", "name"}:
            method = self.parents.get(after)
            return attribute if isinstance(method, ast.Call) and method.func is after else None
        return None

    def _enclosing_call(self, node: ast.expr, direct: bool) -> ast.Call | None:
        """The query/select/filter/where call ``node`` is an argument of.

        A class itself must be a direct argument (``select(User)``); a column
        (``User.email``) may sit inside an expression (``where(User.email == x)``).
        """
        child: ast.AST = node
        parent = self.parents.get(node)
        while parent is not None and not isinstance(parent, ast.stmt):
            if isinstance(parent, ast.Call) and child is not parent.func:
                if callee_name(parent) in QUERY_CALLS:
                    return parent
                if direct:
                    return None
            elif direct and not isinstance(parent, ast.keyword | ast.List | ast.Tuple):
                return None
            child, parent = parent, self.parents.get(parent)
        return None

    def _added(self, instantiation: ast.Call, label: str) -> str | None:
        """``session.add(X(...))``, or ``x = X(...)`` and then ``session.add(x)``."""
        child: ast.AST = instantiation
        parent = self.parents.get(instantiation)
        while parent is not None and not isinstance(parent, ast.stmt):
            if isinstance(parent, ast.Call) and callee_name(parent) in ADD_CALLS:
                return f"{label}(...) passed to {callee_name(parent)}()"
            child, parent = parent, self.parents.get(parent)
        if isinstance(parent, ast.Assign) and parent.value is child:
            for target in parent.targets:
                if isinstance(target, ast.Name) and target.id in self.added:
                    return f"{label}(...) passed to {self.added[target.id]}()"
        return None

    def _bulk_insert_table(self, node: ast.expr) -> bool:
        """``op.bulk_insert(users, rows)``: the first argument is a table."""
        parent = self.parents.get(node)
        return (
            isinstance(parent, ast.Call)
            and callee_name(parent) == "bulk_insert"
            and bool(parent.args)
            and parent.args[0] is node
        )


def _import_statements(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in statements(tree.body, into_definitions=True):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node


def _from_module(statement: ast.ImportFrom) -> str:
    """The module of a from-import, with its leading dots when it is relative."""
    return "." * statement.level + (statement.module or "")


def _bindings(statement: ast.Import | ast.ImportFrom) -> Iterator[_Binding]:
    """``import a.b`` binds ``a``; ``import a.b as x`` binds x to a.b; from-imports bind names."""
    if isinstance(statement, ast.Import):
        for alias in statement.names:
            if alias.asname:
                yield _Binding(alias.asname, alias.name, statement)
            else:
                top = alias.name.split(".")[0]
                yield _Binding(top, top, statement, imported=alias.name)
        return
    module = _from_module(statement)
    for alias in statement.names:
        separator = "" if module.endswith(".") else "."
        yield _Binding(alias.asname or alias.name, f"{module}{separator}{alias.name}", statement)


def _split(path: str) -> tuple[str, str]:
    """("app.models", "User") for "app.models.User"; (".", "models") for ".models"."""
    head, _, leaf = path.rpartition(".")
    if not head and path.startswith("."):
        head = "." * (len(path) - len(path.lstrip(".")))
    return head, leaf


def _shadowed(tree: ast.Module) -> set[tuple[int, str]]:
    """Module-level imports whose name the revision rebinds afterwards with its own
    class, function or assignment: the revision's uses are its own copy."""
    later: dict[str, int] = {}
    for node in tree.body:
        names: list[str] = []
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names = [node.name]
        elif isinstance(node, ast.Assign):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names = [node.target.id]
        for name in names:
            later[name] = node.lineno
    return {
        (id(node), binding.local)
        for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom)
        for binding in _bindings(node)
        if later.get(binding.local, 0) > node.lineno
    }


def describe_model_imports(models: list[ModelImport]) -> str:
    """One message for one import statement, naming each model it brings in once."""
    star = next((model for model in models if model.name == "*"), None)
    if star is not None:
        return f"imports everything from {star.module}, application models included"
    first: dict[tuple[str, str], str | None] = {}
    for model in models:
        first.setdefault((model.module, model.name), model.how)
    by_module: dict[tuple[str, str | None], list[str]] = {}
    for (module, name), how in first.items():
        by_module.setdefault((module, how), []).append(name)
    parts = [
        f"{', '.join(names)} from {module}" + (f" ({how})" if how else "")
        for (module, how), names in by_module.items()
    ]
    noun = "model" if len(first) == 1 else "models"
    return (
        f"imports application {noun} {'; '.join(parts)}; "
        "a model follows today's code, not the schema at this revision"
    )
