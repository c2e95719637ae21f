"""Rules about how a revision is written: SQL strings, imports, transaction control."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from ..model import Finding
from ..nodes import Scope, callee_name, collect_assignments, keyword, walk_without_definitions
from ..sqlsource import formats_only_inert_values, read_sql
from ..walker import Op
from .imports import ModelImport, describe_model_imports, model_imports
from .revision import Revision


def check_sql_string_formatting(rev: Revision) -> Iterator[Finding]:
    """Formatted SQL breaks on quotes and invites injection; bind values instead.

    Integers computed from integer literals (``LIMIT {BATCH}``) and identifiers
    quoted by the dialect's ``quote()`` can do neither, so SQL that formats in
    only those is not reported.
    """
    for op in rev.ops.upgrade + rev.ops.downgrade:
        if op.name != "execute":
            continue
        source = read_sql(op.arg("sqltext"), op.scope)
        if source.formatted and not formats_only_inert_values(source, rev.source.tree):
            yield rev.finding(
                "sql-string-formatting",
                op,
                "SQL passed to execute() is built with an f-string, % or .format()",
            )


def check_model_import(rev: Revision) -> Iterator[Finding]:
    """Models follow today's code, not the schema at this revision: one finding per import."""
    found: dict[ast.stmt, list[ModelImport]] = {}
    for model in model_imports(rev.source.tree):
        found.setdefault(model.statement, []).append(model)
    for statement, models in sorted(found.items(), key=lambda item: item[0].lineno):
        yield rev.finding("model-import", statement, describe_model_imports(models))


def check_transaction_control(rev: Revision) -> Iterator[Finding]:
    """Ending Alembic's transaction early leaves a half-applied revision on failure;
    committing another session's work makes it outlive a failed revision."""
    ops = rev.ops.upgrade + rev.ops.downgrade
    receivers: _Receivers | None = None  # built only for a revision that commits or rolls back
    for op in ops:
        # A connection the revision opened itself is not Alembic's to end.
        if op.name in {"commit", "rollback"} and op.own_connection is None:
            receivers = receivers or _Receivers(rev.source.tree)
            detail = _transaction_call(op, receivers)
            if detail:
                yield rev.finding("transaction-control", op, detail)
    reported: set[int] = set()
    for op, statement in rev.statements(ops):
        if statement.verb == "TRANSACTION" and id(op) not in reported:
            reported.add(id(op))
            yield rev.finding(
                "transaction-control",
                op,
                f"{statement.name} inside a migration breaks Alembic's transaction handling",
            )


def _transaction_call(op: Op, receivers: _Receivers) -> str | None:
    """What a .commit()/.rollback() does to Alembic's transaction; None when nothing."""
    func = op.call.func
    if not isinstance(func, ast.Attribute):
        return None
    target = receivers.resolve(func.value, receivers.frame_of(op.call))
    shown = ast.unparse(func.value)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    if target.kind == "joined":
        # SQLAlchemy joins Alembic's transaction ("rollback_only"): commit() stays
        # inside it, rollback() rolls the whole transaction back. In autocommit_block()
        # there is no transaction to join: the session's own is the session's business.
        if op.in_autocommit:
            return None
        if op.name == "commit" and target.join_mode == "control_fully":
            return (
                f"{shown}.commit() ends Alembic's transaction early: join_transaction_mode="
                f'"control_fully" hands the session Alembic\'s transaction'
            )
        if op.name == "rollback" and target.join_mode != "create_savepoint":
            return (
                f"{shown}.rollback() rolls back Alembic's transaction: a Session bound to "
                "op.get_bind() passes rollback() on to it, undoing the revision's work so far"
            )
        return None
    if target.kind == "separate":
        if op.name != "commit" or not _worked_before(op, receivers):
            return None
        other = (
            "a connection other than Alembic's"
            if target.what == "connection"
            else "a session that is not bound to Alembic's connection"
        )
        return (
            f"{shown}.commit() commits {other}: its work is not atomic with the migration "
            "(it stays committed if the revision fails later), and it waits for the "
            "migration's own locks"
        )
    if target.kind == "savepoint":
        return None
    return f".{op.name}() ends Alembic's transaction early"


# What puts work into a session or connection for a later commit() to commit.
WORK_METHODS = {
    "execute", "exec_driver_sql", "add", "add_all", "merge", "delete", "flush", "query",
    "bulk_save_objects", "bulk_insert_mappings", "bulk_update_mappings",
}  # fmt: skip


def _worked_before(op: Op, receivers: _Receivers) -> bool:
    """Whether the committed session or connection ran anything earlier in its function.

    A commit of a separate session that did nothing commits nothing: no work
    outlives a failed revision. Unknown places count as work.
    """
    func = op.call.func
    function = receivers.frame_of(op.call).function
    if not isinstance(func, ast.Attribute) or function is None:
        return True
    receiver = ast.dump(func.value)
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in WORK_METHODS
            and (node.lineno, node.col_offset) < (op.call.lineno, op.call.col_offset)
            and ast.dump(node.func.value) == receiver
        ):
            return True
    return False


ReceiverKind = Literal["alembic", "joined", "separate", "savepoint", "unknown"]
SESSION_CLASSES = {"Session", "scoped_session"}
MAX_DEPTH = 8


@dataclass(frozen=True)
class _Target:
    """What a name stands for: Alembic's connection, a Session joined to it, or another."""

    kind: ReceiverKind
    join_mode: str | None = None  # a literal join_transaction_mode given to the Session
    what: str = "session"  # for a separate one: "session" or "connection"


@dataclass(frozen=True)
class _Frame:
    """The names one function can see: assignments and ``with ... as name`` targets."""

    function: ast.FunctionDef | None
    names: Scope


class _Receivers:
    """Follows a receiver back to what created it, across helpers and their callers."""

    def __init__(self, tree: ast.Module) -> None:
        self.functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
        self.module = collect_assignments(
            [node for node in tree.body if not isinstance(node, ast.FunctionDef)]
        )
        self.imported = {
            alias.asname or alias.name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        }
        self.frames = {id(f): self._frame(f) for f in self.functions}
        self.owner = {
            id(node): function for function in self.functions for node in ast.walk(function)
        }

    def _frame(self, function: ast.FunctionDef) -> _Frame:
        withs: Scope = {}
        for node in walk_without_definitions(function.body):
            if isinstance(node, ast.With):
                for item in node.items:
                    if isinstance(item.optional_vars, ast.Name):
                        withs[item.optional_vars.id] = item.context_expr
        names = {**self.module, **withs, **collect_assignments(function.body)}
        return _Frame(function, names)

    def frame_of(self, node: ast.AST) -> _Frame:
        function = self.owner.get(id(node))
        return self.frames[id(function)] if function else _Frame(None, self.module)

    def resolve(self, node: ast.expr, frame: _Frame, depth: int = 0) -> _Target:
        """Alembic's connection (op.get_bind()), a Session bound to it, or something else."""
        if depth > MAX_DEPTH:
            return _Target("unknown")
        if isinstance(node, ast.Name):
            if node.id in frame.names:
                return self.resolve(frame.names[node.id], frame, depth + 1)
            if frame.function is not None and node.id in _parameters(frame.function):
                return self._from_callers(frame.function, node.id, depth + 1)
            if node.id not in self.imported:
                return _Target("unknown")
            return _Target("separate", what="session" if "session" in node.id else "connection")
        if isinstance(node, ast.Attribute):
            if node.attr == "session":  # Flask-SQLAlchemy's db.session: its own connection
                return _Target("separate")
            if node.attr in {"connection", "bind"} and callee_name(node.value) == "get_context":
                return _Target("alembic")
            return _Target("unknown")
        if not isinstance(node, ast.Call):
            return _Target("unknown")
        name = callee_name(node)
        if name == "get_bind":
            return _Target("alembic")
        if name == "begin_nested":
            return _Target("savepoint")
        if name == "connect" and isinstance(node.func, ast.Attribute):
            base = self.resolve(node.func.value, frame, depth + 1)
            return base if base.kind == "alembic" else _Target("separate", what="connection")
        configured = self._session_calls(node, frame)
        if configured is None:
            return _Target("unknown")
        bind = next((b for b in map(_bind_argument, configured) if b is not None), None)
        mode = next((m for m in map(_join_mode, configured) if m is not None), None)
        if bind is not None and self.resolve(bind, frame, depth + 1).kind == "alembic":
            return _Target("joined", mode)
        return _Target("separate")

    def _session_calls(self, call: ast.Call, frame: _Frame) -> list[ast.Call] | None:
        """The calls that configure a session: ``Session(...)``, or ``factory()`` and
        the ``sessionmaker(...)`` it came from; None when ``call`` makes no session."""
        func = call.func
        factory = frame.names.get(func.id) if isinstance(func, ast.Name) else func
        if isinstance(factory, ast.Call) and callee_name(factory) == "sessionmaker":
            return [call, factory]
        if callee_name(call) in SESSION_CLASSES:
            return [call]
        return None

    def _from_callers(self, function: ast.FunctionDef, parameter: str, depth: int) -> _Target:
        """A helper's parameter is what every call of the helper passes, if they agree."""
        index = _parameters(function).index(parameter)
        positional_count = len(function.args.posonlyargs) + len(function.args.args)
        found: set[_Target] = set()
        for caller in self.functions:
            for node in walk_without_definitions(caller.body):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id == function.name
                ):
                    argument = _argument(node, index, parameter, positional_count)
                    if argument is None:
                        return _Target("unknown")
                    found.add(self.resolve(argument, self.frames[id(caller)], depth + 1))
        return found.pop() if len(found) == 1 else _Target("unknown")


def _parameters(function: ast.FunctionDef) -> list[str]:
    """Positional parameters first, in order, then keyword-only ones."""
    arguments = function.args
    return [a.arg for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]]


def _argument(call: ast.Call, index: int, name: str, positional_count: int) -> ast.expr | None:
    """The argument a call passes for one parameter, by position or keyword."""
    if index >= positional_count:
        return keyword(call, name)
    positional = call.args
    if any(isinstance(a, ast.Starred) for a in positional[: index + 1]):
        return None
    if index < len(positional):
        return positional[index]
    return keyword(call, name)


def _bind_argument(call: ast.Call) -> ast.expr | None:
    """``bind=`` of Session()/sessionmaker(), which is also their first positional parameter."""
    if call.args and not isinstance(call.args[0], ast.Starred):
        return call.args[0]
    return keyword(call, "bind")


def _join_mode(call: ast.Call) -> str | None:
    mode = keyword(call, "join_transaction_mode")
    if isinstance(mode, ast.Constant) and isinstance(mode.value, str):
        return mode.value
    return None
