"""The revision graph of the files being checked: ids, parents, what came after a revision.

``--since REV`` names the revision production runs. Tables created by revisions
after it do not exist in production yet, so locking them harms nobody: the
rules treat them like tables created in the same revision.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass

from .source import RevisionSource


class UnknownRevision(ValueError):
    """A --since value that names no revision, or more than one, among the files checked."""


@dataclass(frozen=True)
class Node:
    """One revision file's place in the graph."""

    id: str
    parents: tuple[str, ...]
    display: str


def read_node(source: RevisionSource) -> Node | None:
    """``revision`` and ``down_revision`` as literals; None when the id is computed."""
    values: dict[str, ast.expr] = {}
    for statement in source.tree.body:
        if isinstance(statement, ast.Assign):
            targets = statement.targets
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            targets = [statement.target]
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name) and statement.value is not None:
                values[target.id] = statement.value
    revision = values.get("revision")
    if not (isinstance(revision, ast.Constant) and isinstance(revision.value, str)):
        return None
    return Node(revision.value, _ids(values.get("down_revision")), source.display)


def _ids(node: ast.expr | None) -> tuple[str, ...]:
    """A down_revision: None, one id, or a tuple/list of ids (a merge)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return (node.value,)
    if isinstance(node, ast.Tuple | ast.List):
        return tuple(
            item.value
            for item in node.elts
            if isinstance(item, ast.Constant) and isinstance(item.value, str)
        )
    return ()


class History:
    """The graph over the checked files; parents outside them are simply absent."""

    def __init__(self, nodes: Iterable[Node]) -> None:
        # One id in two files: separate histories that share ids (Prefect keeps a
        # PostgreSQL and a SQLite one), or a copy. Their parents are merged.
        self.nodes: dict[str, Node] = {}
        for node in nodes:
            known = self.nodes.get(node.id)
            parents = tuple(dict.fromkeys((*known.parents, *node.parents))) if known else ()
            self.nodes[node.id] = Node(node.id, parents or node.parents, node.display)
        self.children: dict[str, set[str]] = {}
        for node in self.nodes.values():
            for parent in node.parents:
                self.children.setdefault(parent, set()).add(node.id)

    def resolve(self, wanted: str) -> str:
        """An id or a unique prefix of one, as ``alembic`` accepts them."""
        if wanted in self.nodes:
            return wanted
        matches = sorted(rev for rev in self.nodes if rev.startswith(wanted))
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise UnknownRevision(f"no such revision among the {len(self.nodes)} checked")
        raise UnknownRevision(f"ambiguous revision prefix, matches {', '.join(matches[:5])}")

    def after(self, since: str) -> set[str]:
        """Every revision production does not have at ``since``: all but it and its ancestors.

        That includes a branch that forked before ``since`` and is not merged into it.
        """
        return set(self.nodes) - self.ancestors(since)

    def ancestors(self, rev: str) -> set[str]:
        """``rev`` and every revision it descends from, among the checked files."""
        found: set[str] = set()
        pending = [rev]
        while pending:
            current = pending.pop()
            if current in found or current not in self.nodes:
                continue
            found.add(current)
            pending.extend(self.nodes[current].parents)
        return found
