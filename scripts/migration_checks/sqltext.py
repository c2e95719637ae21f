"""Reading SQL text: the statement kinds, tables and bounds the rules reason about.

The AST layer only needs a few facts from raw SQL: which statements are
UPDATE/DELETE and on which table, whether they are bounded, transaction
control, index builds and constraint validation. Anything deeper is left to
squawk in the --sql layer, so these patterns stay deliberately small.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .nodes import normalise_table

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
