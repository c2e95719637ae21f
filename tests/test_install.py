"""README.md's install lines, run as written in a throwaway user repository.

A `git clone` into a skills folder nests a repository: the user's next `git add -A` warns
`adding embedded git repository` and records a gitlink with no .gitmodules, so teammates get
an empty folder. These tests hold the README to lines that leave plain, tracked files.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from project import PROJECT_DIR

README = PROJECT_DIR / "README.md"
PLACEHOLDER = "<this-repo>"  # the README's stand-in for this repository's URL
AGENTS = ["Claude Code", "OpenAI Codex", "Cursor", "Gemini CLI"]
CLAUDE_PROJECT = ".claude/skills/alembic"
GITLINK_MODE = "160000"


def readme_block(name: str) -> str:
    """The sh block after `<!-- tested: NAME -->` in README.md."""
    marker = re.escape(f"<!-- tested: {name} -->")
    match = re.search(marker + r"\n```sh\n(.*?)```", README.read_text(), re.DOTALL)
    assert match, f"README.md lost its tested {name} block"
    return match.group(1)


def install_table() -> dict[str, tuple[str, str]]:
    """Each agent's (project scope, user scope) line from the install section's table."""
    text = README.read_text()
    section = text[text.index("## Install it as a skill") :]
    section = section[: section.index("\n## ", 1)]
    rows: dict[str, tuple[str, str]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] in AGENTS:
            # A whole cell is one command, so a note added to it cannot go unrun.
            commands = []
            for cell in cells[1:]:
                span = re.fullmatch(r"`([^`]+)`", cell)
                assert span, f"each scope cell should be one command: {line}"
                commands.append(span[1])
            rows[cells[0]] = (commands[0], commands[1])
    return rows


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A user's shell with an empty HOME and its own TMPDIR, so leftovers are visible."""
    (tmp_path / "home").mkdir()
    (tmp_path / "tmp").mkdir()
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path / "home"),
        "TMPDIR": str(tmp_path / "tmp"),
        "LC_ALL": "C",  # git's warnings in English, to match on
        "GIT_CONFIG_NOSYSTEM": "1",
    }


def git(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)


def new_repository(path: Path, env: dict[str, str]) -> Path:
    path.mkdir()
    for args in (
        ("init", "-q", "-b", "main"),
        ("config", "user.name", "Test User"),
        ("config", "user.email", "test@example.com"),
    ):
        assert git(path, env, *args).returncode == 0
    return path


@pytest.fixture
def source(tmp_path: Path, env: dict[str, str]) -> Path:
    """A clone of this repository's HEAD that stands in for `<this-repo>`; tests commit to it."""
    path = tmp_path / "source"
    assert git(tmp_path, env, "clone", "-q", str(PROJECT_DIR), str(path)).returncode == 0
    for args in (("config", "user.name", "Upstream"), ("config", "user.email", "up@example.com")):
        assert git(path, env, *args).returncode == 0
    return path


@pytest.fixture
def user_repo(tmp_path: Path, env: dict[str, str]) -> Path:
    return new_repository(tmp_path / "user", env)


def sh(
    lines: str, cwd: Path, env: dict[str, str], source: Path
) -> subprocess.CompletedProcess[str]:
    """The README's function plus LINES, as a user pastes them, with the placeholder filled in."""
    function = readme_block("install")
    assert PLACEHOLDER in function
    script = (function + lines).replace(PLACEHOLDER, source.as_uri())
    return subprocess.run(["sh", "-c", script], cwd=cwd, env=env, capture_output=True, text=True)


def add_all(user_repo: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return git(user_repo, env, "add", "-A")


def nesting_problems(
    user_repo: Path, env: dict[str, str], added: subprocess.CompletedProcess[str], skill: str
) -> list[str]:
    """What is wrong after `git add -A` with the skill at SKILL: empty when it is plain files."""
    problems = []
    if added.returncode != 0:
        problems.append(f"git add -A exited {added.returncode}: {added.stderr}")
    if "embedded git repository" in added.stderr:
        problems.append(f"git add -A warned: {added.stderr}")
    index = git(user_repo, env, "ls-files", "-s").stdout.splitlines()
    problems += [f"gitlink recorded: {entry}" for entry in index if entry.startswith(GITLINK_MODE)]
    if not any(e.startswith("100644 ") and e.endswith(f"\t{skill}/SKILL.md") for e in index):
        problems.append(f"{skill}/SKILL.md is not a tracked regular file")
    if (user_repo / skill / ".git").exists():
        problems.append(f"{skill}/.git exists")
    return problems


@pytest.mark.parametrize("agent", AGENTS)
def test_each_agents_lines_install_plain_files(
    agent: str, user_repo: Path, env: dict[str, str], source: Path
) -> None:
    project_line, user_line = install_table()[agent]
    for line in (project_line, user_line):
        result = sh(line, user_repo, env, source)
        assert result.returncode == 0, result.stderr

    project_skill = project_line.split()[-1]
    assert project_skill.endswith("/alembic") and not project_skill.startswith("~")
    problems = nesting_problems(user_repo, env, add_all(user_repo, env), project_skill)
    assert problems == []

    assert user_line.split()[-1].startswith("~/")
    user_skill = Path(env["HOME"]) / user_line.split()[-1].removeprefix("~/")
    assert (user_skill / "SKILL.md").read_text() == (source / "SKILL.md").read_text()
    assert not (user_skill / ".git").exists()
    assert os.listdir(env["TMPDIR"]) == []  # the temp clones are gone


def test_running_a_line_again_updates_the_copy(
    user_repo: Path, env: dict[str, str], source: Path
) -> None:
    line = install_table()["Claude Code"][0]
    assert sh(line, user_repo, env, source).returncode == 0
    assert add_all(user_repo, env).returncode == 0
    assert git(user_repo, env, "commit", "-q", "-m", "Add the skill").returncode == 0

    installed = user_repo / CLAUDE_PROJECT
    (installed / "SKILL.md").write_text("edited by hand\n")
    (installed / "stray.txt").write_text("not upstream\n")
    (source / "NEW_UPSTREAM.md").write_text("a newer version\n")
    assert git(source, env, "add", "NEW_UPSTREAM.md").returncode == 0
    assert git(source, env, "commit", "-q", "-m", "Newer").returncode == 0

    result = sh(line, user_repo, env, source)
    assert result.returncode == 0, result.stderr
    assert (installed / "SKILL.md").read_text() == (source / "SKILL.md").read_text()
    assert not (installed / "stray.txt").exists()
    assert nesting_problems(user_repo, env, add_all(user_repo, env), CLAUDE_PROJECT) == []
    # The update is an ordinary diff: the one file upstream added.
    staged = git(user_repo, env, "status", "--porcelain").stdout.splitlines()
    assert staged == [f"A  {CLAUDE_PROJECT}/NEW_UPSTREAM.md"]


def test_a_failed_clone_keeps_the_installed_copy(
    user_repo: Path, env: dict[str, str], source: Path, tmp_path: Path
) -> None:
    line = install_table()["Claude Code"][0]
    assert sh(line, user_repo, env, source).returncode == 0
    result = sh(line, user_repo, env, tmp_path / "no-such-repository")
    assert result.returncode != 0
    assert (user_repo / CLAUDE_PROJECT / "SKILL.md").is_file()
    assert os.listdir(env["TMPDIR"]) == []

    result = sh("install_alembic_skill .claude/skills", user_repo, env, source)
    assert result.returncode == 2, "only a folder named alembic may be replaced"
    assert (user_repo / ".claude/skills/alembic/SKILL.md").is_file()


@pytest.mark.parametrize("committed", [False, True], ids=["staged", "committed"])
def test_installing_over_an_earlier_clone(
    committed: bool, user_repo: Path, env: dict[str, str], source: Path
) -> None:
    # What the issue reported, and proof that nesting_problems catches it.
    cloned = git(user_repo, env, "clone", "-q", source.as_uri(), CLAUDE_PROJECT)
    assert cloned.returncode == 0, cloned.stderr
    problems = nesting_problems(user_repo, env, add_all(user_repo, env), CLAUDE_PROJECT)
    assert any("embedded git repository" in problem for problem in problems), problems
    assert any("gitlink recorded" in problem for problem in problems), problems
    if committed:
        assert git(user_repo, env, "commit", "-q", "-m", "Add the skill").returncode == 0

    result = sh(readme_block("install-over-clone"), user_repo, env, source)
    assert result.returncode == 0, result.stderr
    assert nesting_problems(user_repo, env, add_all(user_repo, env), CLAUDE_PROJECT) == []


def test_submodule_lines_record_gitmodules_and_update(
    user_repo: Path, env: dict[str, str], source: Path
) -> None:
    # Git refuses file:// submodules by default since 2.38.1; a real URL needs no setting.
    env = {
        **env,
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "protocol.file.allow",
        "GIT_CONFIG_VALUE_0": "always",
    }
    block = readme_block("install-submodule")
    result = sh(block, user_repo, env, source)
    assert result.returncode == 0, result.stderr
    added = add_all(user_repo, env)
    assert added.returncode == 0 and "embedded" not in added.stderr, added.stderr
    gitmodules = git(user_repo, env, "config", "-f", ".gitmodules", "--list").stdout
    assert f"submodule.{CLAUDE_PROJECT}.path={CLAUDE_PROJECT}" in gitmodules
    assert f"submodule.{CLAUDE_PROJECT}.url={source.as_uri()}" in gitmodules
    pinned = git(user_repo, env, "ls-files", "-s", CLAUDE_PROJECT).stdout
    assert pinned.startswith(GITLINK_MODE)
    assert git(user_repo, env, "commit", "-q", "-m", "Add the skill").returncode == 0

    (source / "NEW_UPSTREAM.md").write_text("a newer version\n")
    assert git(source, env, "add", "NEW_UPSTREAM.md").returncode == 0
    assert git(source, env, "commit", "-q", "-m", "Newer").returncode == 0
    update = "".join(line + "\n" for line in block.splitlines() if "submodule update" in line)
    assert update, "the submodule block lost its update line"
    result = sh(update, user_repo, env, source)
    assert result.returncode == 0, result.stderr
    upstream = git(source, env, "rev-parse", "HEAD").stdout
    assert git(user_repo / CLAUDE_PROJECT, env, "rev-parse", "HEAD").stdout == upstream
    assert (user_repo / CLAUDE_PROJECT / "NEW_UPSTREAM.md").is_file()
