"""Fill every table of a scratch PostgreSQL database with N generated rows.

Locks are free on empty tables: a scan, a rewrite or an index build costs
something only when there are rows. Each table gets one INSERT ... SELECT over
generate_series(1, N), parents before children, so foreign keys find their
rows; unique and key columns get values derived from the row number. A table
that still refuses the rows (a CHECK the generator cannot guess) stays empty,
and the report says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from .errors import first_line

COLUMNS = text(
    """
    SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
           a.atthasdef, a.attidentity <> '' OR a.attgenerated <> ''
               OR coalesce(pg_get_expr(d.adbin, d.adrelid), '') LIKE 'nextval(%',
           t.typtype = 'e', a.atttypid::regtype::text
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_type t ON t.oid = a.atttypid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
      AND n.nspname = current_schema() AND c.relname <> :version_table
    ORDER BY c.relname, a.attnum
    """
)
FOREIGN_KEYS = text(
    """
    SELECT child.relname, a.attname, parent.relname, pa.attname
    FROM pg_constraint k
    JOIN pg_class child ON child.oid = k.conrelid
    JOIN pg_class parent ON parent.oid = k.confrelid
    JOIN pg_namespace n ON n.oid = child.relnamespace
    CROSS JOIN LATERAL unnest(k.conkey, k.confkey) AS pair(child_col, parent_col)
    JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = pair.child_col
    JOIN pg_attribute pa ON pa.attrelid = k.confrelid AND pa.attnum = pair.parent_col
    WHERE k.contype = 'f' AND n.nspname = current_schema()
    """
)


@dataclass
class Column:
    name: str
    type: str
    not_null: bool
    has_default: bool
    generated: bool  # identity, serial or GENERATED: the database fills it
    enum: bool
    type_name: str


@dataclass
class Table:
    name: str
    columns: list[Column] = field(default_factory=list)
    references: dict[str, tuple[str, str]] = field(default_factory=dict)  # column: (table, col)


def value_of(column: Column, row: str) -> str | None:
    """A SQL expression for ``column`` in terms of the row number ``row``; None to skip."""
    kind = column.type.lower()
    if kind.endswith("]"):  # an array of anything: empty
        return f"'{{}}'::{column.type}"
    if column.enum:
        return f"(enum_range(NULL::{column.type_name}))[1]"
    if kind in ("smallint", "integer", "bigint") or kind.startswith(("numeric", "real", "double")):
        return f"({row})::{column.type}"
    if kind.startswith(("character varying", "character", "text", "citext")):
        return f"left(({row})::text || '-' || md5(({row})::text), {length_of(kind)})"
    if kind == "uuid":
        return f"md5(({row})::text)::uuid"
    if kind == "boolean":
        return f"({row}) % 2 = 0"
    if kind == "date":
        return f"date '2020-01-01' + (({row}) % 3650)"
    if kind.startswith("timestamp"):
        return f"(timestamp '2020-01-01' + ({row}) * interval '1 second')::{column.type}"
    if kind.startswith("time"):
        return f"(time '00:00' + (({row}) % 86400) * interval '1 second')::{column.type}"
    if kind.startswith("interval"):
        return f"({row}) * interval '1 second'"
    if kind in ("json", "jsonb"):
        return f"'{{}}'::{kind}"
    if kind == "bytea":
        return f"decode(md5(({row})::text), 'hex')"
    return None


def quoted(name: str) -> str:
    """An identifier as SQL writes it, whatever characters the name has."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A string as an SQL literal."""
    return "'" + text.replace("'", "''") + "'"


def length_of(kind: str) -> int:
    """The n of varchar(n)/char(n); text has no limit, so a generous one."""
    if "(" in kind:
        return int(kind.split("(", 1)[1].split(")", 1)[0])
    return 60


def read_tables(connection: Connection, version_table: str) -> dict[str, Table]:
    """The project's tables and their columns: every table but the version table."""
    tables: dict[str, Table] = {}
    for row in connection.execute(COLUMNS, {"version_table": version_table}):
        table = tables.setdefault(row[0], Table(row[0]))
        table.columns.append(Column(row[1], row[2], row[3], row[4], row[5], row[6], row[7]))
    for child, column, parent, parent_column in connection.execute(FOREIGN_KEYS):
        if child in tables:
            tables[child].references[column] = (parent, parent_column)
    return tables


def in_dependency_order(tables: dict[str, Table]) -> list[Table]:
    """Parents before children; a cycle is broken where the dependency is found again."""
    ordered: list[Table] = []
    placed: set[str] = set()
    visiting: set[str] = set()

    def place(name: str) -> None:
        if name in placed or name in visiting or name not in tables:
            return
        visiting.add(name)
        for parent, _ in tables[name].references.values():
            place(parent)
        visiting.discard(name)
        placed.add(name)
        ordered.append(tables[name])

    for name in sorted(tables):
        place(name)
    return ordered


def insert_for(table: Table, tables: dict[str, Table], rows: int) -> str | None:
    """INSERT ... SELECT over generate_series for ``table``; None when it cannot be filled."""
    names, values = [], []
    for column in table.columns:
        if column.generated:
            continue
        if column.name in table.references:
            parent_name, parent_column = table.references[column.name]
            parent = tables.get(parent_name)
            target = (
                next((c for c in parent.columns if c.name == parent_column), None)
                if parent
                else None
            )
            wrapped = f"((g - 1) % {rows}) + 1"
            if target is not None and target.generated:
                value = f"({wrapped})::{column.type}"  # identity/serial parents count from 1
            else:
                value = value_of(target, wrapped) if target is not None else None
        elif column.has_default and not column.not_null:
            continue
        else:
            value = value_of(column, "g")
        if value is None:
            if column.not_null and not column.has_default:
                return None
            continue
        names.append(quoted(column.name))
        values.append(value)
    if not names:
        return f"INSERT INTO {quoted(table.name)} SELECT FROM generate_series(1, {rows})"
    return (
        f"INSERT INTO {quoted(table.name)} ({', '.join(names)}) "
        f"SELECT {', '.join(values)} FROM generate_series(1, {rows}) AS g"
    )


def fill_tables(
    connection: Connection, rows: int, version_table: str = "alembic_version"
) -> dict[str, str]:
    """Fill each table but the version table with ``rows`` rows.

    Returns {table: why it stayed empty}.
    """
    tables = read_tables(connection, version_table)
    connection.commit()
    empty: dict[str, str] = {}
    for table in in_dependency_order(tables):
        statement = insert_for(table, tables, rows)
        if statement is None:
            empty[table.name] = "a NOT NULL column of a type the generator does not know"
            continue
        try:
            connection.execute(text(statement))
            connection.commit()
        except Exception as exc:  # a CHECK, a unique index on an expression, ...
            connection.rollback()
            empty[table.name] = first_line(exc)
    connection.execute(text("ANALYZE"))
    connection.commit()
    return empty


def seed(url: Any, rows: int, version_table: str = "alembic_version") -> dict[str, str]:
    """Open ``url`` with its own driver and fill its tables; see fill_tables()."""
    from .scratch import with_connection

    return with_connection(url, lambda connection: fill_tables(connection, rows, version_table))
