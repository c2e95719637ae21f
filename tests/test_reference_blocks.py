"""Every Python block in references/ renders, and the names it uses are the names it made.

Each block runs against an offline PostgreSQL MigrationContext whose
target_metadata is this project's, so models.py's naming convention applies
as it would in a revision here: ``op.create_check_constraint("ck_x", "t", ...)``
becomes ``ck_t_ck_x`` unless the name is wrapped in ``op.f()``. Each
``def upgrade()``/``def downgrade()`` runs where it is defined, so "revision N"
and "revision N+1" in one block run in order. A later VALIDATE, DROP or USING
INDEX must then name a constraint or index the block created (or one the
project's models have).

Blocks that are excerpts of a project file (``# examples/...``) are not
rendered here: those files run up and down on PostgreSQL in test_recipes.py.
Nor are blocks to paste into models.py or env.py (``# add to models.py``): the
test of their recipe pastes them into a project copy and runs autogenerate.
"""

from __future__ import annotations

import ast
import io
import re
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import op
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from project import PROJECT_DIR
from sqlalchemy.dialects import postgresql

from models import Base

FENCE = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
NAMED_FILE = re.compile(r"^#\s*[\w./-]+\.py\s*$")
# Code to paste into models.py or env.py: the test of its recipe pastes it and runs it.
PASTED = re.compile(r"^# add to [\w./-]+\.py\b")
NAME = r'"?(\w+)"?'
CREATES = re.compile(
    rf"\b(?:ADD\s+CONSTRAINT|CONSTRAINT|CREATE\s+(?:UNIQUE\s+)?INDEX(?:\s+CONCURRENTLY)?"
    rf"(?:\s+IF\s+NOT\s+EXISTS)?)\s+{NAME}",
    re.IGNORECASE,
)
USES = re.compile(
    rf"\b(?:VALIDATE\s+CONSTRAINT|DROP\s+CONSTRAINT(?:\s+IF\s+EXISTS)?|USING\s+INDEX"
    rf"|DROP\s+INDEX(?:\s+CONCURRENTLY)?(?:\s+IF\s+EXISTS)?)\s+{NAME}",
    re.IGNORECASE,
)


def standalone_blocks() -> list[tuple[str, str]]:
    """(id, code) of every Python block in references/ that is not a file excerpt."""
    blocks = []
    for path in sorted((PROJECT_DIR / "references").glob("*.md")):
        for number, code in enumerate(FENCE.findall(path.read_text()), start=1):
            first_line = code.partition("\n")[0]
            if not NAMED_FILE.match(first_line) and not PASTED.match(first_line):
                blocks.append((f"{path.name}#{number}", code))
    return blocks


BLOCKS = standalone_blocks()


class ReadingBind:
    """``op.get_bind()`` offline: statements are rendered, reads find an empty table."""

    def __init__(self, context: MigrationContext) -> None:
        self.context = context

    def execute(self, statement: Any, parameters: dict[str, Any] | None = None) -> ReadingBind:
        if parameters:
            statement = statement.bindparams(**parameters)
        self.context.impl._exec(statement)
        return self

    def scalar_one(self) -> int:
        return 0

    def scalar(self) -> None:
        return None

    rowcount = 0


def render(code: str, name: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The SQL ``code`` emits, with upgrade()/downgrade() called where they are defined."""
    tree = ast.parse(code, name)
    body: list[ast.stmt] = []
    for node in tree.body:
        body.append(node)
        if isinstance(node, ast.FunctionDef) and node.name in {"upgrade", "downgrade"}:
            # An irreversible downgrade raises NotImplementedError, as documented.
            body.extend(
                ast.parse(f"try:\n    {node.name}()\nexcept NotImplementedError:\n    pass").body
            )
    module = ast.fix_missing_locations(ast.Module(body, type_ignores=[]))
    buffer = io.StringIO()
    context = MigrationContext.configure(
        dialect_name="postgresql",
        opts={
            "as_sql": True,
            "output_buffer": buffer,
            "literal_binds": True,
            "target_metadata": Base.metadata,
        },
    )
    monkeypatch.setattr(Operations, "get_bind", lambda self: ReadingBind(context))
    with Operations.context(context):
        exec(compile(module, name, "exec"), {"op": op, "sa": sa, "postgresql": postgresql})
    return buffer.getvalue()


def project_names() -> set[str]:
    """Constraint and index names the project's models give its tables."""
    names = set()
    for table in Base.metadata.tables.values():
        names.update(str(c.name) for c in table.constraints if c.name)
        names.update(str(i.name) for i in table.indexes if i.name)
    return names


def test_there_are_blocks_to_render() -> None:
    assert len(BLOCKS) >= 20


@pytest.mark.parametrize(("block", "code"), BLOCKS, ids=[b for b, _ in BLOCKS])
def test_block_uses_the_names_it_creates(
    block: str, code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sql = render(code, block, monkeypatch)
    created: set[str] = set()
    for match in re.finditer(f"{CREATES.pattern}|{USES.pattern}", sql, re.IGNORECASE):
        made, used = match[1], match[2]
        if made:
            created.add(made)
        elif created and used not in created | project_names():
            pytest.fail(f"{block} uses {used!r}, but it created only {sorted(created)}:\n{sql}")
