"""Reading the SQL that a revision passes to ``execute``.

The AST layer only needs a few facts from raw SQL: which statements are
UPDATE/DELETE and on which table, whether they are bounded, transaction
control, index builds and constraint validation. Anything deeper is left to
squawk in the --sql layer, so these patterns stay deliberately small.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, replace

from .nodes import Scope, callee_name, literal_name, normalise_table

IDENT = r'(?:"[^"]+"|[\w$]+)(?:\.(?:"[^"]+"|[\w$]+))?'
TRANSACTION = re.compile(r"^(BEGIN|COMMIT|ROLLBACK|START\s+TRANSACTION|END|ABORT)\b", re.I)
UPDATE = re.compile(rf"^UPDATE\s+(?:ONLY\s+)?({IDENT})", re.I)
DELETE = re.compile(rf"^DELETE\s+FROM\s+(?:ONLY\s+)?({IDENT})", re.I)
CREATE_TABLE = re.compile(
    rf"^CREATE\s+(?:(?:GLOBAL|LOCAL)\s+)?(?:(?:TEMP|TEMPORARY|UNLOGGED)\s+)?TABLE\s+"
    rf"(?:IF\s+NOT\s+EXISTS\s+)?({IDENT})",
    re.I,
)
CREATE_INDEX = re.compile(
    rf"^CREATE\s+(?:UNIQUE\s+)?INDEX\s+(CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?"
    rf"(?:({IDENT})\s+)?ON\s+(?:ONLY\s+)?({IDENT})",
    re.I,
)
DROP_INDEX = re.compile(rf"^DROP\s+INDEX\s+(CONCURRENTLY\s+)?(?:IF\s+EXISTS\s+)?({IDENT})", re.I)
DROP_TABLE = re.compile(rf"^DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?({IDENT})", re.I)
ALTER_TABLE = re.compile(
    rf"^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?({IDENT})\s+(.*)$", re.I
)
VALIDATE = re.compile(rf"\bVALIDATE\s+CONSTRAINT\s+({IDENT})", re.I)
ADD_CONSTRAINT = re.compile(rf"\bADD\s+CONSTRAINT\s+({IDENT})", re.I)
DROP_COLUMN = re.compile(rf"\bDROP\s+(?:COLUMN\s+)?(?:IF\s+EXISTS\s+)?({IDENT})", re.I)
DROP_CONSTRAINT = re.compile(rf"\bDROP\s+CONSTRAINT\s+(?:IF\s+EXISTS\s+)?({IDENT})", re.I)
NOT_VALID = re.compile(r"\bNOT\s+VALID\b", re.I)
CREATE_VIEW = re.compile(rf"^CREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+({IDENT})", re.I)
DDL_WORDS = re.compile(
    r"^(CREATE|ALTER|DROP|COMMENT|GRANT|REVOKE|TRUNCATE|REINDEX|CLUSTER)\b", re.I
)
CONCURRENTLY = re.compile(r"\bCONCURRENTLY\b", re.I)
WHERE = re.compile(r"\bWHERE\b", re.I)
LIMIT = re.compile(r"\bLIMIT\b", re.I)
# A primary-key lookup (WHERE id = 7, WHERE t.id IN (...)) touches a known handful of rows.
# A primary-key range (WHERE id > :after AND id <= :through, id BETWEEN ...): one batch.
KEY_RANGE = re.compile(r'\b(?:[\w"]+\.)?"?id"?\s*(?:>=?|<=?|BETWEEN\b)', re.I)
KEY_LOOKUP = re.compile(r'\bWHERE\s+(?:[\w"]+\.)?"?id"?\s*(?:=|IN\b)', re.I)
# ":name" (sa.text), "%(name)s"/"%s" (DBAPI) and "$1" (asyncpg); "::type" casts are not parameters.
PARAMETER = re.compile(r"(?<![:\w]):[A-Za-z_]\w*|%\(\w+\)s|%s|\$\d+")


@dataclass(frozen=True)
class Statement:
    """What the checker needs to know about one SQL statement."""

    verb: str
    table: str | None = None
    name: str | None = None
    concurrently: bool = False
    not_valid: bool = False
    has_where: bool = False
    bounded: bool = False  # a LIMIT, a primary-key lookup or a primary-key range
    parameterized: bool = False  # a bind parameter or a variable in the WHERE clause
    ddl: bool = False


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


def strip_literals(sql: str) -> str:
    """Blank out comments, dollar-quoted bodies and quoted strings before matching keywords."""
    sql = re.sub(r"--[^\n]*", " ", sql)
    sql = re.sub(r"/\*.*?\*/", " ", sql, flags=re.S)
    sql = re.sub(r"\$(\w*)\$.*?\$\1\$", "$$", sql, flags=re.S)
    return re.sub(r"'(?:[^']|'')*'", "''", sql)


def split_statements(sql: str) -> list[str]:
    """Statements of a SQL string, with whitespace collapsed and literals blanked."""
    parts = (" ".join(part.split()) for part in strip_literals(sql).split(";"))
    return [part for part in parts if part]


def classify(statement: str) -> Statement:
    """Recognise the handful of statement kinds the AST rules reason about."""
    found = _classify(statement)
    is_ddl = bool(DDL_WORDS.match(statement)) and found.verb != "VALIDATE"
    return replace(found, ddl=is_ddl) if is_ddl else found


def _classify(statement: str) -> Statement:
    if match := TRANSACTION.match(statement):
        return Statement("TRANSACTION", name=match.group(1).upper())
    if match := UPDATE.match(statement):
        return _dml("UPDATE", match.group(1), statement)
    if match := DELETE.match(statement):
        return _dml("DELETE", match.group(1), statement)
    if match := CREATE_TABLE.match(statement):
        return Statement("CREATE TABLE", table=normalise_table(match.group(1)))
    if match := CREATE_INDEX.match(statement):
        return Statement(
            "CREATE INDEX",
            table=normalise_table(match.group(3)),
            name=normalise_table(match.group(2)),
            concurrently=bool(match.group(1)),
        )
    if match := DROP_INDEX.match(statement):
        return Statement(
            "DROP INDEX", name=normalise_table(match.group(2)), concurrently=bool(match.group(1))
        )
    if match := DROP_TABLE.match(statement):
        return Statement("DROP TABLE", table=normalise_table(match.group(1)))
    if match := CREATE_VIEW.match(statement):
        return Statement("CREATE VIEW", table=normalise_table(match.group(1)))
    if match := ALTER_TABLE.match(statement):
        return _alter_table(normalise_table(match.group(1)), match.group(2))
    return Statement("OTHER", concurrently=bool(CONCURRENTLY.search(statement)))


def where_clause(statement: str) -> str:
    where = WHERE.search(statement)
    return statement[where.start() :] if where else ""


def is_bounded(statement: str) -> bool:
    """A LIMIT, a primary-key lookup or a primary-key range bounds the rows.

    A bind parameter alone bounds nothing: ``WHERE role = :role`` or
    ``WHERE created_at < :cutoff`` can still match every row.
    """
    condition = where_clause(statement)
    key_range = KEY_RANGE.search(condition) and PARAMETER.search(condition)
    return bool(LIMIT.search(statement) or KEY_LOOKUP.search(statement) or key_range)


def _dml(verb: str, table: str, statement: str) -> Statement:
    return Statement(
        verb,
        table=normalise_table(table),
        has_where=bool(WHERE.search(statement)),
        bounded=is_bounded(statement),
        parameterized=bool(PARAMETER.search(where_clause(statement))),
    )


def _alter_table(table: str | None, rest: str) -> Statement:
    """ALTER TABLE forms that matter: VALIDATE, ADD CONSTRAINT ... NOT VALID, DROP ..."""
    if match := VALIDATE.search(rest):
        return Statement("VALIDATE", table=table, name=normalise_table(match.group(1)))
    if match := ADD_CONSTRAINT.search(rest):
        return Statement(
            "ADD CONSTRAINT",
            table=table,
            name=normalise_table(match.group(1)),
            not_valid=bool(NOT_VALID.search(rest)),
        )
    if match := DROP_CONSTRAINT.search(rest):
        return Statement("DROP CONSTRAINT", table=table, name=normalise_table(match.group(1)))
    if match := DROP_COLUMN.search(rest):
        return Statement("DROP COLUMN", table=table, name=normalise_table(match.group(1)))
    return Statement("ALTER TABLE", table=table)


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
