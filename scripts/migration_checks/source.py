"""Finding revision files and reading them into syntax trees.

Every way an input can be unusable (missing, unreadable, not Python, not a
revision) becomes an InputError with the file and line, so the command can
print one line and exit 2 instead of a traceback.
"""

from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import dataclass
from pathlib import Path

from .config import default_versions_dirs
from .model import InputError

SKIPPED_DIRS = {"__pycache__"}


@dataclass(frozen=True)
class RevisionSource:
    """A parsed revision file and its two entry points."""

    path: Path
    display: str
    text: str
    tree: ast.Module
    upgrade: ast.FunctionDef
    downgrade: ast.FunctionDef | None
    # The folders from the checked root down to the file's own: where a history
    # says which database it is for (``versions/sqlite/``), never the folders above.
    folders: tuple[str, ...] = ()


def collect_paths(arguments: list[str], cwd: Path) -> list[tuple[Path, Path]]:
    """Expand the command-line paths (or the alembic.ini default) into (root, revision file)."""
    roots = [Path(arg) for arg in arguments] if arguments else default_versions_dirs(cwd)
    return [(root, path) for root in roots for path in _files_under(root)]


def folders_below(root: Path, path: Path) -> tuple[str, ...]:
    """The root folder's name and those below it down to ``path``'s folder.

    A file given by itself keeps its own folder's name only.
    """
    folder = path.resolve().parent
    if root.is_file():
        return (folder.name,)
    try:
        return folder.relative_to(root.resolve().parent).parts
    except ValueError:
        return (folder.name,)


def _files_under(root: Path) -> list[Path]:
    """A file stands for itself; a directory stands for every .py file below it."""
    if not root.exists():
        raise InputError(str(root), 0, "no such file or directory")
    if root.is_file():
        if root.suffix != ".py":
            raise InputError(str(root), 0, "not a Python file")
        return [root]
    found = sorted(
        path
        for path in root.rglob("*.py")
        if path.name != "__init__.py" and not SKIPPED_DIRS.intersection(path.parts)
    )
    if not found:
        raise InputError(str(root), 0, "no revision files (*.py) in this directory")
    return found


def load_revision(path: Path, display: str, folders: tuple[str, ...] = ()) -> RevisionSource:
    """Parse one file and confirm it is an Alembic revision (revision id and upgrade())."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(display, 0, f"cannot read ({exc.strerror})") from exc
    text = _decode(raw, display)
    try:
        tree = ast.parse(text, filename=display)
    except SyntaxError as exc:
        raise InputError(display, exc.lineno or 1, f"syntax error: {exc.msg}") from exc
    if not _assigns_module_name(tree, "revision"):
        raise InputError(display, 1, "not an Alembic revision (no module-level `revision = ...`)")
    upgrade = _entry_point(tree, "upgrade")
    if upgrade is None:
        raise InputError(display, 1, "not an Alembic revision (no `def upgrade()`)")
    return RevisionSource(
        path=path,
        display=display,
        text=text,
        tree=tree,
        upgrade=upgrade,
        downgrade=_entry_point(tree, "downgrade"),
        folders=folders,
    )


def _decode(raw: bytes, display: str) -> str:
    """Source text as Python reads it: UTF-8 (a BOM allowed) or the file's coding cookie."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError as exc:  # undecodable first lines, or a cookie naming no codec
        raise InputError(
            display, 1, f"not UTF-8 text and no usable coding cookie ({exc.msg})"
        ) from exc
    try:
        return raw.decode(encoding).removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise InputError(display, 1, f"not {encoding} text ({exc.reason})") from exc


def _entry_point(tree: ast.Module, name: str) -> ast.FunctionDef | None:
    """``def upgrade()``, or ``upgrade = _shared_upgrade`` naming a module-level function."""
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    target = name
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
            and isinstance(node.value, ast.Name)
        ):
            target = node.value.id
    return functions.get(target)


def _assigns_module_name(tree: ast.Module, name: str) -> bool:
    """True when the module body binds ``name`` with a plain or annotated assignment."""
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        else:
            continue
        if any(isinstance(target, ast.Name) and target.id == name for target in targets):
            return True
    return False
