"""Column types as written in a revision, and which type changes avoid a rewrite.

PostgreSQL changes some types in place (only the catalog changes): a longer
varchar, varchar to text, a numeric with more precision and the same scale.
Everything else rewrites the table and rebuilds its indexes under ACCESS
EXCLUSIVE, which is what the type-change-rewrite rule reports.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from .nodes import callee_name, keyword

VARCHAR_NAMES = {"String", "VARCHAR", "Unicode", "NVARCHAR", "CHARACTER VARYING"}
TEXT_NAMES = {"Text", "TEXT", "UnicodeText", "CLOB"}
NUMERIC_NAMES = {"Numeric", "NUMERIC", "DECIMAL"}
JSON_NAMES = {"JSON"}


@dataclass(frozen=True)
class ColumnType:
    """A type reduced to its family and the size arguments that matter."""

    family: str
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    spelled: str = ""


def type_name(node: ast.expr) -> str | None:
    """``sa.String(50)``, ``sa.String`` and ``postgresql.VARCHAR`` give the class name."""
    if isinstance(node, ast.Call):
        return callee_name(node)
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return None


def parse_type(node: ast.expr | None) -> ColumnType | None:
    """Read a type expression; None when it is not a recognisable type."""
    if node is None:
        return None
    name = type_name(node)
    if name is None:
        return None
    spelled = ast.unparse(node)
    if name in VARCHAR_NAMES:
        return ColumnType("varchar", length=_int_arg(node, 0, "length"), spelled=spelled)
    if name in TEXT_NAMES:
        return ColumnType("text", spelled=spelled)
    if name in NUMERIC_NAMES:
        return ColumnType(
            "numeric",
            precision=_int_arg(node, 0, "precision"),
            scale=_int_arg(node, 1, "scale"),
            spelled=spelled,
        )
    return ColumnType(name, spelled=spelled)


def _int_arg(node: ast.expr, index: int, name: str) -> int | None:
    if not isinstance(node, ast.Call):
        return None
    value = node.args[index] if index < len(node.args) else keyword(node, name)
    if isinstance(value, ast.Constant) and isinstance(value.value, int):
        return value.value
    return None


def is_in_place_change(old: ColumnType, new: ColumnType) -> bool:
    """True when PostgreSQL can change ``old`` to ``new`` without rewriting the table."""
    if old.family == "varchar" and new.family == "varchar":
        return new.length is None or (old.length is not None and new.length >= old.length)
    if old.family in {"varchar", "text"} and new.family == "text":
        return True
    if old.family == "text" and new.family == "varchar":
        return new.length is None
    if old.family == "numeric" and new.family == "numeric":
        if new.precision is None and new.scale is None:
            return True
        if old.precision is None or new.precision is None:
            return False
        return new.precision >= old.precision and (new.scale or 0) == (old.scale or 0)
    return old.spelled.replace("()", "") == new.spelled.replace("()", "")


def is_json(node: ast.expr | None) -> bool:
    """``sa.JSON``/``postgresql.JSON`` without a JSONB variant for PostgreSQL."""
    if node is None:
        return False
    if isinstance(node, ast.Call) and callee_name(node) == "with_variant":
        return is_json(node.func.value if isinstance(node.func, ast.Attribute) else None) and (
            not any(type_name(arg) == "JSONB" for arg in node.args)
        )
    return type_name(node) in JSON_NAMES
