"""The revision as rules see it: its operations, its new tables, and column specs."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property

from ..coltypes import type_name
from ..dialects import runs_pragma, sqlite_history
from ..model import Finding, make_finding
from ..nodes import Scope, callee_name, is_false, is_true, keyword, literal_name
from ..source import RevisionSource
from ..sqlsource import read_sql
from ..sqltext import Statement
from ..walker import Op, Operations, collect_operations

Check = Callable[["Revision"], Iterator[Finding]]


INTEGER_TYPES = {"Integer", "INTEGER", "BigInteger", "BIGINT", "SmallInteger", "SMALLINT"}

SCHEMA_ITEMS = {"ForeignKey", "CheckConstraint", "Identity", "Computed", "Sequence"}


@dataclass(frozen=True)
class ColumnSpec:
    """The parts of an ``sa.Column(...)`` call that decide whether adding it is safe."""

    name: str | None
    type_: ast.expr | None
    not_null: bool
    server_default: ast.expr | None
    unique: bool
    index: bool
    foreign_keys: tuple[ast.Call, ...]
    checks: tuple[ast.Call, ...]
    generated: str | None


def read_column(node: ast.expr | None, scope: Scope) -> ColumnSpec | None:
    """Parse a Column call (directly or through a variable); None when it is not one."""
    if isinstance(node, ast.Name):
        node = scope.get(node.id)
    if not isinstance(node, ast.Call) or callee_name(node) != "Column":
        return None
    positional = list(node.args)
    name = literal_name(positional[0]) if positional else None
    if name is not None:
        positional = positional[1:]
    type_ = keyword(node, "type_")
    if type_ is None and positional and callee_name(positional[0]) not in SCHEMA_ITEMS:
        type_, positional = positional[0], positional[1:]
    items = [arg for arg in positional if isinstance(arg, ast.Call)]
    primary_key = is_true(keyword(node, "primary_key"))
    nullable = keyword(node, "nullable")
    return ColumnSpec(
        name=name,
        type_=type_,
        not_null=is_false(nullable) or (primary_key and not is_true(nullable)),
        server_default=keyword(node, "server_default"),
        unique=is_true(keyword(node, "unique")),
        index=is_true(keyword(node, "index")),
        foreign_keys=tuple(item for item in items if callee_name(item) == "ForeignKey"),
        checks=tuple(item for item in items if callee_name(item) == "CheckConstraint"),
        generated=_generated_kind(items, type_, primary_key, keyword(node, "autoincrement")),
    )


def _generated_kind(
    items: list[ast.Call], type_: ast.expr | None, primary_key: bool, autoincrement: ast.expr | None
) -> str | None:
    """Identity, stored generated and serial columns: each writes a value into every row."""
    for item in items:
        if callee_name(item) == "Identity":
            return "an identity column"
        if callee_name(item) == "Computed" and not is_false(keyword(item, "persisted")):
            return "a stored generated column"
    integer = type_ is not None and type_name(type_) in INTEGER_TYPES
    if primary_key and integer and not is_false(autoincrement):
        return "a serial primary key"
    return None


class Project:
    """Every revision checked in one run, for rules that look beyond one file."""

    def __init__(self) -> None:
        self.revisions: list[Revision] = []


@dataclass(frozen=True)
class Revision:
    """A parsed revision with its operations, shared by every rule.

    ``created`` holds the tables nobody else can be using yet: those this
    revision creates, plus (with --since) those created after the deployed head.
    """

    source: RevisionSource
    ops: Operations
    created: frozenset[str]
    project: Project = field(default_factory=Project, compare=False, repr=False)
    # Each execute()'s statements, read once: every rule asks for them.
    read: dict[int, list[Statement]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(cls, source: RevisionSource, project: Project | None = None) -> Revision:
        ops = collect_operations(source)
        return cls(source, ops, frozenset(ops.created_tables), project or Project())

    @cached_property
    def sqlite_only(self) -> bool:
        """Only ever runs on SQLite: its folder says so, or it runs PRAGMA on every dialect
        (a PRAGMA behind ``if dialect == "sqlite":`` is not walked, so it does not count)."""
        if sqlite_history(self.source):
            return True
        texts = [
            read_sql(op.arg("sqltext"), op.scope).text or ""
            for op in self.ops.upgrade
            if op.name == "execute"
        ]
        return runs_pragma(texts)

    def finding(self, rule_id: str, op: Op | ast.AST, detail: str) -> Finding:
        """A finding at an operation (or any node), spanning all of its lines."""
        node = op.call if isinstance(op, Op) else op
        line = getattr(node, "lineno", 1)
        end = getattr(node, "end_lineno", line) or line
        return make_finding(rule_id, self.source.display, line, detail, end)

    def finding_at(self, rule_id: str, line: int, detail: str) -> Finding:
        """A finding on one line, e.g. a ``def`` line whose body is the problem."""
        return make_finding(rule_id, self.source.display, line, detail)

    def existing(self, op: Op) -> bool:
        """True unless the op's table was created by this revision (unknown counts as existing)."""
        return op.table is None or op.table not in self.created

    def upgrade(self, *names: str) -> Iterator[Op]:
        """upgrade() operations with one of the given names."""
        return (op for op in self.ops.upgrade if op.name in names)

    def statements(self, ops: list[Op]) -> Iterator[tuple[Op, Statement]]:
        """Every SQL statement passed to execute(), with the op that runs it."""
        for op in ops:
            if op.statement is not None:
                yield op, op.statement
            elif op.name == "execute":
                if id(op) not in self.read:
                    self.read[id(op)] = read_sql(op.arg("sqltext"), op.scope).statements()
                for statement in self.read[id(op)]:
                    yield op, statement

    def added_columns(self) -> Iterator[tuple[Op, ColumnSpec]]:
        """add_column on existing tables, with the parsed column."""
        for op in self.upgrade("add_column"):
            column = read_column(op.arg("column"), op.scope)
            if column is not None and self.existing(op):
                yield op, column


def table_label(op: Op) -> str:
    """The table an operation touches, for messages."""
    return op.table or "the table"


def index_label(name: str | None) -> str:
    """ "index ix_name", or "an index" when the name is computed."""
    return f"index {name}" if name else "an index"


def is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None
