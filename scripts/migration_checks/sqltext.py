"""Reading SQL text: the statement kinds, tables and bounds the rules reason about.

The AST layer only needs a few facts from raw SQL: which statements are
UPDATE/DELETE and on which table, whether they are bounded, transaction
control, index builds, the actions of an ALTER TABLE, and the statements that
lock or rewrite a whole table (REINDEX, VACUUM, CLUSTER, LOCK). Anything deeper
is left to squawk in the --sql layer, so these patterns stay deliberately small.
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
    rf"^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?({IDENT})\s*\*?\s+(.*)$", re.I
)
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

# The actions of an ALTER TABLE, each matched at the start of one comma-separated part.
ADD_CONSTRAINT = re.compile(
    rf"^ADD\s+(?:CONSTRAINT\s+({IDENT})\s+)?"
    r"(CHECK|UNIQUE|PRIMARY\s+KEY|FOREIGN\s+KEY|EXCLUDE|NOT\s+NULL)\b\s*(.*)$",
    re.I,
)
ADD_COLUMN = re.compile(rf"^ADD\s+(?:COLUMN\s+)?(?:IF\s+NOT\s+EXISTS\s+)?({IDENT})\s*(.*)$", re.I)
ALTER_COLUMN = re.compile(rf"^ALTER\s+(?!CONSTRAINT\b)(?:COLUMN\s+)?({IDENT})\s+(.*)$", re.I)
SET_TYPE = re.compile(r"^(?:SET\s+DATA\s+)?TYPE\b", re.I)
SET_NOT_NULL = re.compile(r"^SET\s+NOT\s+NULL\b", re.I)
# USING INDEX right after UNIQUE/PRIMARY KEY attaches an index; "(cols) USING INDEX
# TABLESPACE x" still builds one.
USING_INDEX = re.compile(r"^USING\s+INDEX\s+(?!TABLESPACE\b)", re.I)
VALIDATE_ACTION = re.compile(rf"^VALIDATE\s+CONSTRAINT\s+({IDENT})", re.I)
DROP_CONSTRAINT_ACTION = re.compile(rf"^DROP\s+CONSTRAINT\s+(?:IF\s+EXISTS\s+)?({IDENT})", re.I)
DROP_COLUMN_ACTION = re.compile(rf"^DROP\s+(?:COLUMN\s+)?(?:IF\s+EXISTS\s+)?({IDENT})", re.I)
IS_NOT_NULL = re.compile(rf"^({IDENT})\s+IS\s+NOT\s+NULL$", re.I)
SERIAL_TYPE = re.compile(r"^(?:SMALL|BIG)?SERIAL[248]?\b", re.I)
IDENTITY = re.compile(r"\bGENERATED\s+(?:ALWAYS|BY\s+DEFAULT)\s+AS\s+IDENTITY\b", re.I)
STORED_GENERATED = re.compile(r"\bGENERATED\s+ALWAYS\s+AS\s*\(\)\s*STORED\b", re.I)
# DEFAULT's expression ends where the next column constraint starts.
DEFAULT = re.compile(
    r"\bDEFAULT\s+(.*?)(?=\s+(?:CONSTRAINT|NOT\s+NULL|NULL|CHECK|UNIQUE|PRIMARY\s+KEY"
    r"|REFERENCES|GENERATED|COLLATE)\b|$)",
    re.I,
)
COLUMN_CONSTRAINTS = {
    "PRIMARY KEY": re.compile(r"\bPRIMARY\s+KEY\b", re.I),
    "UNIQUE": re.compile(r"\bUNIQUE\b", re.I),
    "FOREIGN KEY": re.compile(r"\bREFERENCES\b", re.I),
    "CHECK": re.compile(r"\bCHECK\b", re.I),
    "NOT NULL": re.compile(r"\bNOT\s+NULL\b", re.I),
}

# Statements that lock or rewrite a whole table.
REINDEX = re.compile(
    rf"^REINDEX\s+(?:\([^)]*\)\s*)?(INDEX|TABLE|SCHEMA|DATABASE|SYSTEM)\b"
    rf"(?:\s+CONCURRENTLY\b)?(?:\s+({IDENT}))?",
    re.I,
)
VACUUM = re.compile(r"^VACUUM\b\s*(.*)$", re.I)
VACUUM_FULL_OPTION = re.compile(r"\bFULL\b(?!\s+(?:FALSE|OFF|0)\b)", re.I)
VACUUM_WORDS = re.compile(r"^(?:(?:FULL|FREEZE|VERBOSE|ANALYZE|ANALYSE)\b\s*)+", re.I)
CLUSTER = re.compile(r"^CLUSTER\b\s*(.*)$", re.I)
CLUSTER_ON = re.compile(rf"^({IDENT})\s+ON\s+({IDENT})", re.I)
LOCK = re.compile(r"^LOCK\s+(?:TABLE\s+)?(.*?)(?:\s+IN\s+([A-Z ]+?)\s+MODE)?(?:\s+NOWAIT)?$", re.I)
LEADING_IDENT = re.compile(rf"^(?:ONLY\s+)?({IDENT})", re.I)
DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$")


@dataclass(frozen=True)
class Action:
    """One comma-separated action of an ALTER TABLE.

    ``kind`` is ADD COLUMN, ADD CONSTRAINT, SET TYPE, SET NOT NULL, VALIDATE,
    DROP COLUMN, DROP CONSTRAINT or OTHER: one statement may carry several, and
    each can lock or rewrite the table on its own.
    """

    kind: str
    name: str | None = None  # the constraint, when the action names one
    column: str | None = None  # the column; for CHECK (col IS NOT NULL), the column it proves
    constraint: str | None = None  # CHECK, UNIQUE, PRIMARY KEY, FOREIGN KEY, EXCLUDE, NOT NULL
    using_index: bool = False  # UNIQUE/PRIMARY KEY USING INDEX: attaches an index, builds none
    not_valid: bool = False
    inline: tuple[str, ...] = ()  # ADD COLUMN: its column constraints, as constraint kinds
    default: str | None = None  # ADD COLUMN: the DEFAULT expression
    generated: str | None = None  # ADD COLUMN: serial, identity or stored generated


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
    actions: tuple[Action, ...] = ()  # ALTER TABLE: every action, in order
    # LOCK TABLE's lock mode; FULL for VACUUM FULL; REINDEX's object kind (INDEX, TABLE, ...).
    mode: str | None = None
    tables: tuple[str, ...] = ()  # LOCK, VACUUM, CLUSTER: every table named (none: all)


def strip_literals(sql: str) -> str:
    """Blank out comments, dollar-quoted bodies and quoted strings before matching keywords.

    One pass from left to right, so a ``--`` inside a string or a quote inside a
    comment cannot confuse it; quoted identifiers are kept whole.
    """
    out: list[str] = []
    i, size = 0, len(sql)
    while i < size:
        char, pair = sql[i], sql[i : i + 2]
        if pair == "--":
            end = sql.find("\n", i)
            i = size if end < 0 else end
            out.append(" ")
        elif pair == "/*":
            i = _comment_end(sql, i)
            out.append(" ")
        elif char == "'":
            escapes = i > 0 and sql[i - 1] in "eE" and (i < 2 or not _word_char(sql[i - 2]))
            i = _string_end(sql, i, escapes)
            out.append("''")
        elif char == '"':
            end = sql.find('"', i + 1)
            end = size if end < 0 else end + 1
            out.append(sql[i:end])
            i = end
        elif char == "$" and (i == 0 or not _word_char(sql[i - 1])):
            tag = DOLLAR_TAG.match(sql, i)
            if tag is None:
                out.append(char)
                i += 1
                continue
            end = sql.find(tag.group(0), tag.end())
            i = size if end < 0 else end + len(tag.group(0))
            out.append("$$")
        else:
            out.append(char)
            i += 1
    return "".join(out)


def _word_char(char: str) -> bool:
    return char.isalnum() or char in "_$"


def _comment_end(sql: str, start: int) -> int:
    """Where a /* comment */ ends; PostgreSQL nests them."""
    depth, i = 0, start
    while i < len(sql):
        if sql.startswith("/*", i):
            depth, i = depth + 1, i + 2
        elif sql.startswith("*/", i):
            depth, i = depth - 1, i + 2
            if depth == 0:
                return i
        else:
            i += 1
    return len(sql)


def _string_end(sql: str, start: int, escapes: bool) -> int:
    """Where a '...' literal ends: '' is a quote inside it, and \\' too in E'...'."""
    i = start + 1
    while i < len(sql):
        if escapes and sql[i] == "\\":
            i += 2
        elif sql[i] == "'":
            if sql.startswith("''", i):
                i += 2
            else:
                return i + 1
        else:
            i += 1
    return len(sql)


def split_top_level(text: str, separator: str) -> list[str]:
    """Parts of ``text`` between separators outside parentheses and quoted identifiers."""
    parts, depth, quoted, start = [], 0, False, 0
    for i, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif quoted:
            continue
        elif char == "(":
            depth += 1
        elif char == ")":
            depth = max(depth - 1, 0)
        elif char == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [part.strip() for part in parts]


def split_statements(sql: str) -> list[str]:
    """Statements of a SQL string, with whitespace collapsed and literals blanked."""
    parts = (" ".join(part.split()) for part in split_top_level(strip_literals(sql), ";"))
    return [part for part in parts if part]


def classify(statement: str) -> Statement:
    """Recognise the handful of statement kinds the AST rules reason about."""
    found = _classify(statement)
    only_validates = found.verb == "VALIDATE" and all(
        action.kind == "VALIDATE" for action in found.actions
    )
    is_ddl = bool(DDL_WORDS.match(statement)) and not only_validates
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
    return _table_wide(statement) or Statement(
        "OTHER", concurrently=bool(CONCURRENTLY.search(statement))
    )


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
    """Every action of the ALTER TABLE, and the verb older rules read from the first that
    matters: VALIDATE, a named ADD CONSTRAINT, DROP CONSTRAINT, DROP COLUMN."""
    actions = tuple(read_action(part) for part in split_top_level(rest, ",") if part)
    for action in actions:
        if action.kind == "VALIDATE":
            return Statement("VALIDATE", table=table, name=action.name, actions=actions)
    for action in actions:
        if action.kind == "ADD CONSTRAINT" and action.name:
            return Statement(
                "ADD CONSTRAINT",
                table=table,
                name=action.name,
                not_valid=action.not_valid,
                actions=actions,
            )
    for kind in ("DROP CONSTRAINT", "DROP COLUMN"):
        for action in actions:
            if action.kind == kind:
                name = action.name if kind == "DROP CONSTRAINT" else action.column
                return Statement(kind, table=table, name=name, actions=actions)
    return Statement("ALTER TABLE", table=table, actions=actions)


def read_action(text: str) -> Action:
    """One ALTER TABLE action, e.g. ``ALTER COLUMN email SET NOT NULL``."""
    if match := VALIDATE_ACTION.match(text):
        return Action("VALIDATE", name=normalise_table(match.group(1)))
    if match := DROP_CONSTRAINT_ACTION.match(text):
        return Action("DROP CONSTRAINT", name=normalise_table(match.group(1)))
    if match := DROP_COLUMN_ACTION.match(text):
        return Action("DROP COLUMN", column=normalise_table(match.group(1)))
    if match := ADD_CONSTRAINT.match(text):
        return _add_constraint(match.group(1), match.group(2), match.group(3))
    if match := ADD_COLUMN.match(text):
        return _add_column(normalise_table(match.group(1)), match.group(2))
    if match := ALTER_COLUMN.match(text):
        column, change = normalise_table(match.group(1)), match.group(2)
        if SET_TYPE.match(change):
            return Action("SET TYPE", column=column)
        if SET_NOT_NULL.match(change):
            return Action("SET NOT NULL", column=column)
    return Action("OTHER")


def _add_constraint(name: str | None, kind: str, rest: str) -> Action:
    constraint = " ".join(kind.upper().split())
    column = None
    if constraint == "CHECK" and rest.startswith("("):
        column = not_null_column(_parenthesised(rest))
    elif constraint == "NOT NULL":
        column = normalise_table(match.group(1)) if (match := LEADING_IDENT.match(rest)) else None
    return Action(
        "ADD CONSTRAINT",
        name=normalise_table(name),
        column=column,
        constraint=constraint,
        using_index=constraint in {"UNIQUE", "PRIMARY KEY"} and bool(USING_INDEX.match(rest)),
        not_valid=bool(NOT_VALID.search(rest)),
    )


def _add_column(column: str | None, definition: str) -> Action:
    """A new column: its inline constraints, its default and whether it is generated.

    Read with parenthesised parts emptied, so ``CHECK (a IS NOT NULL)`` is no NOT NULL;
    a default keeps its function names: ``gen_random_uuid()``, ``nextval()``.
    """
    outer = _without_parentheses(definition)
    default = DEFAULT.search(outer)
    generated = None
    if SERIAL_TYPE.match(outer):
        generated = "a serial column"
    elif IDENTITY.search(outer):
        generated = "an identity column"
    elif STORED_GENERATED.search(outer):
        generated = "a stored generated column"
    return Action(
        "ADD COLUMN",
        column=column,
        inline=tuple(kind for kind, pattern in COLUMN_CONSTRAINTS.items() if pattern.search(outer)),
        default=default.group(1) if default else None,
        generated=generated,
    )


def _parenthesised(text: str) -> str:
    """The contents of the parentheses that ``text`` starts with."""
    depth = 0
    for i, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return text[1:i]
    return text[1:]


def _without_parentheses(text: str) -> str:
    """``text`` with what is inside parentheses removed: ``numeric(10, 2) CHECK (a > 0)``
    reads ``numeric() CHECK ()``."""
    out, depth = [], 0
    for char in text:
        if char == ")":
            depth = max(depth - 1, 0)
        if depth == 0:
            out.append(char)
        if char == "(":
            depth += 1
    return "".join(out)


def not_null_column(condition: str) -> str | None:
    """The column a CHECK condition proves NOT NULL: ``(("email" IS NOT NULL))`` → email."""
    condition = " ".join(condition.split())
    while condition.startswith("(") and _parenthesised(condition) == condition[1:-1]:
        condition = condition[1:-1].strip()
    match = IS_NOT_NULL.match(condition)
    return normalise_table(match.group(1)) if match else None


def _table_wide(statement: str) -> Statement | None:
    """REINDEX, VACUUM, CLUSTER and LOCK: statements that lock or rewrite whole tables."""
    concurrently = bool(CONCURRENTLY.search(statement))
    if match := REINDEX.match(statement):
        kind, target = match.group(1).upper(), normalise_table(match.group(2))
        table = target if kind == "TABLE" else None
        tables = (target,) if table else ()
        return Statement(
            "REINDEX", table=table, name=target, concurrently=concurrently, mode=kind, tables=tables
        )
    if match := VACUUM.match(statement):
        rest = match.group(1)
        options = _parenthesised(rest) if rest.startswith("(") else ""
        words = VACUUM_WORDS.match(rest)
        full = bool(VACUUM_FULL_OPTION.search(options) or (words and "FULL" in words[0].upper()))
        if options:
            rest = rest[len(options) + 2 :].strip()
        rest = VACUUM_WORDS.sub("", rest)
        return _on_tables("VACUUM", rest, "FULL" if full else None)
    if match := CLUSTER.match(statement):
        rest = match.group(1)
        if rest.startswith("("):
            rest = rest[len(_parenthesised(rest)) + 2 :].strip()
        rest = re.sub(r"^VERBOSE\b\s*", "", rest, flags=re.I)
        if old_form := CLUSTER_ON.match(rest):  # CLUSTER index ON table
            rest = old_form.group(2)
        return _on_tables("CLUSTER", re.split(r"\s+USING\s+", rest, flags=re.I)[0], None)
    if match := LOCK.match(statement):
        mode = " ".join((match.group(2) or "ACCESS EXCLUSIVE").upper().split())
        return _on_tables("LOCK TABLE", match.group(1), mode)
    return None


def _on_tables(verb: str, names: str, mode: str | None) -> Statement:
    tables = tuple(
        table
        for part in split_top_level(names, ",")
        if (match := LEADING_IDENT.match(part)) and (table := normalise_table(match.group(1)))
    )
    return Statement(verb, table=tables[0] if tables else None, mode=mode, tables=tables)
