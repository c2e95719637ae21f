"""SKILL.md keeps its promises: valid frontmatter, its budget, and exact excerpts."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import skills_ref
from project import PROJECT_DIR

SKILL_MD = PROJECT_DIR / "SKILL.md"
MAX_LINES = 500
MAX_TOKENS = 5000  # estimated as characters / 4

FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.DOTALL | re.MULTILINE)
# A block names a file when its first line is a comment holding a path.
NAMED_FILE = re.compile(r"^#\s*(?P<path>[\w./-]+\.(?:py|ini|toml|mako|cfg))\s*$")


def skill_text() -> str:
    return SKILL_MD.read_text()


def code_blocks(markdown: str) -> list[str]:
    return FENCE.findall(markdown)


def named_excerpts(markdown: str) -> list[tuple[str, str]]:
    """(path, excerpt) for every code block whose first line names a file."""
    found = []
    for block in code_blocks(markdown):
        first, _, rest = block.partition("\n")
        match = NAMED_FILE.match(first)
        if match:
            found.append((match["path"], rest))
    return found


def test_frontmatter_passes_the_reference_validator(tmp_path: Path) -> None:
    # The validator requires the folder to be named after the skill.
    skill_dir = tmp_path / "alembic"
    skill_dir.mkdir()
    shutil.copy(SKILL_MD, skill_dir / "SKILL.md")
    assert skills_ref.validate(skill_dir) == []


def test_validator_rejects_a_broken_frontmatter(tmp_path: Path) -> None:
    """The check above can fail: a key outside the spec is reported."""
    skill_dir = tmp_path / "alembic"
    skill_dir.mkdir()
    (skill_dir / "SKILL.md").write_text(skill_text().replace("license:", "tags: x\nlicense:", 1))
    assert skills_ref.validate(skill_dir) != []


def test_within_line_and_token_budget() -> None:
    text = skill_text()
    assert len(text.splitlines()) <= MAX_LINES
    assert len(text) / 4 <= MAX_TOKENS


def test_names_some_project_files() -> None:
    paths = {path for path, _ in named_excerpts(skill_text())}
    assert {"alembic/env.py", "models.py", "assets/0002_backfill_user_roles.py"} <= paths
    assert any(p.startswith("alembic/versions/") for p in paths)


@pytest.mark.parametrize(
    ("path", "excerpt"),
    named_excerpts(SKILL_MD.read_text()),
    ids=lambda value: value if value.endswith((".py", ".ini", ".toml")) else "",
)
def test_code_block_is_an_exact_excerpt(path: str, excerpt: str) -> None:
    source = PROJECT_DIR / path
    assert source.is_file(), f"SKILL.md names {path}, which does not exist"
    assert excerpt.strip(), f"empty excerpt of {path}"
    assert excerpt in source.read_text(), f"a code block differs from {path}"


def test_excerpt_check_catches_an_edit() -> None:
    """A one-character change to an excerpt is not found in its file."""
    path, excerpt = named_excerpts(skill_text())[0]
    edited = excerpt.replace("(", "[", 1)
    assert edited != excerpt
    assert edited not in (PROJECT_DIR / path).read_text()


def test_every_reference_is_linked_and_exists() -> None:
    text = skill_text()
    linked = set(re.findall(r"\]\((references/[\w.-]+\.md)\)", text))
    on_disk = {f"references/{p.name}" for p in (PROJECT_DIR / "references").glob("*.md")}
    assert linked == on_disk


def test_no_text_says_autocommit_block_needs_transaction_per_migration() -> None:
    """autocommit_block() works without it; alembic recommends the setting alongside."""
    texts = [SKILL_MD, *(PROJECT_DIR / "references").glob("*.md")]
    texts += (PROJECT_DIR / "examples").rglob("*.py")
    claim = re.compile(r"\b(?:needs|requires?)\b[^.]{0,40}transaction_per_migration", re.I)
    offenders = [
        f"{path.relative_to(PROJECT_DIR)}: {match[0]}"
        for path in texts
        for match in claim.finditer(" ".join(path.read_text().split()))
    ]
    assert offenders == []


def test_recipes_table_names_every_recipe_and_its_section() -> None:
    """Each examples/NN_* has its row in SKILL.md's table and its section NN in recipes.md."""
    rows = set(re.findall(r"^\| [^|]+ \| (\d\d) \| [^|]", skill_text(), re.M))
    on_disk = {p.name[:2] for p in (PROJECT_DIR / "examples").iterdir() if p.name[:2].isdigit()}
    assert rows == on_disk
    recipes_md = (PROJECT_DIR / "references" / "recipes.md").read_text()
    sections = {f"{int(n):02d}" for n in re.findall(r"^## (\d+)\. ", recipes_md, re.M)}
    assert sections == on_disk
