"""scripts/check_migrations.py: every rule against its fixtures, and the command's contract.

Fixtures live in tests/check_fixtures/<rule-id>/bad_*.py and good_*.py. A bad
fixture marks each expected finding with ``# expect: RULE`` on the finding's
line (or ``# expect-below: RULE`` on the line above it); the checker must
report exactly those. A good fixture must produce no finding at all. The
checker runs as a subprocess, the way an agent or CI runs it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from checker import run_checker, run_json

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "check_fixtures"
DOC = ROOT / "references" / "checks.md"
EXPECT = re.compile(r"#\s*expect(-below)?:\s*([a-z0-9:,\s-]+)$")
FIXTURE_FILES = sorted(FIXTURES.rglob("*.py"))
SQUAWK_PRESENT = (Path(sys.executable).parent / "squawk").is_file() or bool(shutil.which("squawk"))
needs_squawk = pytest.mark.skipif(not SQUAWK_PRESENT, reason="squawk-cli is not installed")

REVISION_HEAD = '''"""A revision written by a test."""

import sqlalchemy as sa
from alembic import op

revision = "t1"
down_revision = None
'''


def by_file(findings: list[dict]) -> dict[Path, set[tuple[int, str]]]:
    grouped: dict[Path, set[tuple[int, str]]] = {}
    for finding in findings:
        path = (ROOT / finding["file"]).resolve()
        grouped.setdefault(path, set()).add((finding["line"], finding["rule"]))
    return grouped


def expected_findings(path: Path) -> set[tuple[int, str]]:
    expected: set[tuple[int, str]] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = EXPECT.search(line)
        if match:
            target = number + 1 if match.group(1) else number
            expected.update((target, rule.strip()) for rule in match.group(2).split(","))
    return expected


def write_revision(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(REVISION_HEAD + "\n\n" + body.strip() + "\n")
    return path


@pytest.fixture(scope="module")
def rules() -> dict[str, dict]:
    completed = run_checker("--list-rules", "--format", "json")
    assert completed.returncode == 0, completed.stderr
    return {row["rule"]: row for row in json.loads(completed.stdout)}


@pytest.fixture(scope="module")
def fixture_results(rules: dict[str, dict]) -> dict[Path, set[tuple[int, str]]]:
    """One AST run over all fixtures, plus one --sql run over the SQL-layer rules' fixtures."""
    _, findings = run_json(FIXTURES)
    results = by_file(findings)
    sql_dirs = [FIXTURES / rule for rule, row in rules.items() if row["layer"] == "sql"]
    _, sql_findings = run_json("--sql", *sql_dirs)
    for path in {p for folder in sql_dirs for p in folder.glob("*.py")}:
        results.pop(path.resolve(), None)
    results.update(by_file(sql_findings))
    return results


def fixture_rule(path: Path) -> str:
    """The rule a fixture is for: its first folder (a sqlite/ folder below it is a history)."""
    return path.relative_to(FIXTURES).parts[0]


@pytest.mark.parametrize(
    "path", FIXTURE_FILES, ids=lambda p: str(p.relative_to(FIXTURES).with_suffix(""))
)
def test_fixture_reports_exactly_its_expected_findings(path: Path, fixture_results) -> None:
    found = fixture_results.get(path.resolve(), set())
    expected = expected_findings(path)
    if path.name.startswith("bad_"):
        assert fixture_rule(path) in {rule for _, rule in expected}, "bad fixture expects its rule"
    else:
        assert not expected, "good fixtures expect no findings"
    assert found == expected


def test_each_problem_is_reported_once() -> None:
    """A statement chosen per dialect is read once per variant, but reported once."""
    _, findings = run_json(FIXTURES)
    keys = [(f["file"], f["line"], f["rule"], f["message"]) for f in findings]
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)


def test_every_rule_has_bad_and_good_fixtures(rules: dict[str, dict]) -> None:
    missing = [
        f"{rule}/{kind}_*.py"
        for rule in rules
        for kind in ("bad", "good")
        if not list((FIXTURES / rule).glob(f"{kind}_*.py"))
    ]
    assert not missing, f"rules without fixtures: {missing}"
    stray = sorted({fixture_rule(path) for path in FIXTURE_FILES} - set(rules))
    assert not stray, f"fixture folders that name no rule: {stray}"


def test_help_lists_every_rule(rules: dict[str, dict]) -> None:
    completed = run_checker("--help")
    assert completed.returncode == 0
    for rule, row in rules.items():
        assert re.search(rf"^\s+{re.escape(rule)}\s+{row['severity']}\b", completed.stdout, re.M)


def test_reference_doc_has_a_section_per_rule(rules: dict[str, dict]) -> None:
    text = DOC.read_text(encoding="utf-8")
    sections = re.split(r"^## ", text, flags=re.M)
    headings = {section.split("\n", 1)[0].strip(): section for section in sections[1:]}
    for rule in rules:
        assert rule in headings, f"no '## {rule}' section"
        assert f"(#{rule})" in sections[0], f"{rule} missing from the table of contents"
        body = headings[rule]
        positions = [body.find(label) for label in ("**Problem.**", "**Why it hurts", "**Safe")]
        assert -1 not in positions and positions == sorted(positions), rule
        assert "```python" in body, f"{rule} has no Alembic example"
    assert "sql-layer" in headings


def test_json_output_has_the_documented_shape() -> None:
    completed, findings = run_json(FIXTURES / "volatile-default")
    assert completed.returncode == 1
    assert findings
    for finding in findings:
        assert set(finding) == {"file", "line", "rule", "severity", "message", "fix"}
        assert finding["severity"] in {"error", "warning"}
        assert isinstance(finding["line"], int) and finding["line"] > 0
        assert f"references/checks.md#{finding['rule']}" in finding["message"]
        assert finding["fix"]


def test_text_output_is_one_line_per_finding_then_the_fix() -> None:
    path = FIXTURES / "drop-column" / "bad_drop_column.py"
    completed = run_checker(path.relative_to(ROOT))
    lines = completed.stdout.splitlines()
    assert lines[0] == (
        "tests/check_fixtures/drop-column/bad_drop_column.py:13: error drop-column: "
        "drops users.nickname, which running code may read "
        "(see references/checks.md#drop-column)"
    )
    assert lines[1].startswith("    fix: Stop reading the column")
    assert lines[-1].startswith("1 error(s), 0 warning(s) in 1 revision file")


@pytest.mark.parametrize(
    ("fixture", "code"),
    [
        ("drop-column/good_drop_after_deploy.py", 0),
        ("json-not-jsonb/bad_json.py", 0),
        ("drop-column/bad_drop_column.py", 1),
    ],
    ids=["clean", "warnings-only", "errors"],
)
def test_exit_codes(fixture: str, code: int) -> None:
    assert run_checker(FIXTURES / fixture).returncode == code


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("broken.py", REVISION_HEAD + "\ndef upgrade(:\n    pass\n", "broken.py:9: error: syntax"),
        ("helper.py", "def upgrade() -> None:\n    pass\n", "helper.py:1: error: not an Alembic"),
        ("no_upgrade.py", REVISION_HEAD, "no_upgrade.py:1: error: not an Alembic"),
        ("missing.py", None, "missing.py: error: no such file"),
        ("empty_dir", "", "empty_dir: error: no revision files"),
    ],
    ids=["syntax-error", "not-a-revision", "no-upgrade", "missing-path", "empty-directory"],
)
def test_unusable_input_exits_2_with_one_line(tmp_path: Path, name, content, needle) -> None:
    target = tmp_path / name
    if content == "":
        target.mkdir()
    elif content is not None:
        target.write_text(content)
    completed = run_checker("--format", "json", target)
    assert completed.returncode == 2
    assert completed.stderr.count("\n") == 1, completed.stderr
    assert needle in completed.stderr
    assert "Traceback" not in completed.stderr
    report = json.loads(completed.stdout)
    assert needle in report["error"]
    assert (report["errors"], report["findings"]) == ([report["error"]], [])


def test_unusable_file_does_not_hide_findings_in_others(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "drop-table" / "bad_drop_table.py", tmp_path / "a.py")
    (tmp_path / "b.py").write_text("x = (\n")
    completed, report = run_json(tmp_path)
    assert completed.returncode == 2
    assert "b.py:1: error: syntax error" in report["error"]
    assert [finding["rule"] for finding in report["findings"]] == ["drop-table"]


def test_exit_2_leaves_stdout_empty_in_text_mode(tmp_path: Path) -> None:
    """A tool that reads only stdout must not see a pass (or a findings list) on exit 2."""
    shutil.copy(FIXTURES / "drop-table" / "bad_drop_table.py", tmp_path / "a.py")
    completed = run_checker(tmp_path / "a.py", tmp_path / "missing.py")
    assert (completed.returncode, completed.stdout) == (2, "")
    assert "missing.py: error: no such file or directory" in completed.stderr
    assert "error drop-table:" in completed.stderr

    nothing = run_checker(cwd=tmp_path)
    assert (nothing.returncode, nothing.stdout) == (2, "")
    assert "No findings" not in nothing.stderr


@pytest.mark.parametrize(
    "setting",
    ["script_location = %(here)s/migrations", "version_locations = %(here)s/migrations/versions"],
)
def test_default_path_comes_from_alembic_ini(tmp_path: Path, setting: str) -> None:
    (tmp_path / "alembic.ini").write_text(f"[alembic]\n{setting}\n")
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    shutil.copy(FIXTURES / "drop-table" / "bad_drop_table.py", versions / "0001_drop.py")
    completed, findings = run_json(cwd=tmp_path)
    assert completed.returncode == 1
    assert [(f["file"], f["rule"]) for f in findings] == [
        ("migrations/versions/0001_drop.py", "drop-table")
    ]


def test_no_path_and_no_alembic_ini_is_a_usage_error(tmp_path: Path) -> None:
    completed, report = run_json(cwd=tmp_path)
    assert completed.returncode == 2
    assert "alembic.ini: error: not found in the current directory" in report["error"]
    assert completed.stderr.strip() == report["error"]


def test_suppression_above_a_multiline_call_covers_it(tmp_path: Path) -> None:
    path = write_revision(
        tmp_path,
        "r.py",
        """
def upgrade() -> None:
    # check: ignore[index-not-concurrent] 40-row lookup table
    op.create_index(
        "ix_countries_code",
        "countries",
        ["code"],
    )


def downgrade() -> None:
    op.drop_index("ix_countries_code", table_name="countries")
""",
    )
    completed, findings = run_json(path)
    assert (completed.returncode, findings) == (0, [])


def test_standard_library_only_without_sql(tmp_path: Path) -> None:
    """-S hides site-packages: the AST layer must still run, and --sql must say why it cannot."""
    path = FIXTURES / "index-not-concurrent" / "bad_create_index.py"
    completed = run_checker("--sql", "--format", "json", path, python_flags=("-S",))
    assert completed.returncode == 1
    assert [f["rule"] for f in json.loads(completed.stdout)] == ["index-not-concurrent"]
    assert completed.stderr.count("\n") == 1
    assert "alembic is not importable" in completed.stderr


@needs_squawk
def test_sql_layer_reports_squawk_findings_on_the_revision_line() -> None:
    path = FIXTURES / "index-not-concurrent" / "bad_create_index.py"
    completed, findings = run_json("--sql", path)
    assert completed.returncode == 1, completed.stderr
    assert completed.stderr == ""
    (line,) = {line for line, _ in expected_findings(path)}
    found = {(f["line"], f["rule"]): f for f in findings}
    squawk = found[(line, "squawk:require-concurrent-index-creation")]
    assert squawk["severity"] == "warning"
    assert "references/checks.md#sql-layer" in squawk["message"]
    assert not any("timeout" in rule for _, rule in found)


@needs_squawk
def test_sql_layer_is_quiet_on_a_concurrent_index_build() -> None:
    """Rendered for PostgreSQL, the autocommit block and CONCURRENTLY satisfy squawk."""
    path = FIXTURES / "index-not-concurrent" / "good_concurrent_index.py"
    completed, findings = run_json("--sql", path)
    assert (completed.returncode, findings, completed.stderr) == (0, [], "")


@needs_squawk
def test_sql_layer_keeps_timeout_rules_on_request() -> None:
    path = FIXTURES / "index-not-concurrent" / "bad_create_index.py"
    _, findings = run_json("--sql", "--squawk-timeout-rules", path)
    rules = {f["rule"] for f in findings}
    assert {"squawk:require-lock-timeout", "squawk:require-statement-timeout"} <= rules


@needs_squawk
def test_squawk_findings_honour_suppressions(tmp_path: Path) -> None:
    used = FIXTURES / "unused-suppression" / "good_used_suppressions.py"
    completed, findings = run_json("--sql", used)
    assert (completed.returncode, findings) == (0, [])
    path = write_revision(
        tmp_path,
        "r.py",
        """
def upgrade() -> None:
    # check: ignore[squawk:ban-drop-table] nothing is dropped here
    op.add_column("users", sa.Column("bio", sa.Text(), nullable=True), if_not_exists=True)


def downgrade() -> None:
    op.drop_column("users", "bio")
""",
    )
    _, without_sql = run_json(path)
    _, with_sql = run_json("--sql", path)
    assert without_sql == []
    comment_line = 1 + path.read_text(encoding="utf-8").splitlines().index(
        "    # check: ignore[squawk:ban-drop-table] nothing is dropped here"
    )
    assert [(f["line"], f["rule"]) for f in with_sql] == [(comment_line, "unused-suppression")]


def test_sql_layer_without_squawk_says_so_and_keeps_ast_findings(tmp_path: Path) -> None:
    env = {**os.environ, "SQUAWK_BIN": str(tmp_path / "no-squawk-here")}
    path = FIXTURES / "index-not-concurrent" / "bad_create_index.py"
    completed = run_checker("--sql", path, env=env)
    assert completed.returncode == 1
    assert completed.stderr.count("\n") == 1
    assert "SQUAWK_BIN" in completed.stderr and "not linted" in completed.stderr
    assert "error index-not-concurrent" in completed.stdout
    assert "squawk:" not in completed.stdout


TYPE_CHANGES = [
    ("sa.String(50)", "sa.String(100)", False),
    ("sa.String(50)", "sa.String()", False),
    ("sa.String(50)", "sa.Text()", False),
    ("sa.VARCHAR(50)", "sa.Text", False),
    ("sa.Text()", "sa.String()", False),
    ("sa.Numeric(10, 2)", "sa.Numeric(12, 2)", False),
    ("sa.Numeric(10, 2)", "sa.Numeric()", False),
    ("sa.String(100)", "sa.String(50)", True),
    ("sa.Text()", "sa.String(50)", True),
    ("sa.Numeric(10, 2)", "sa.Numeric(12, 4)", True),
    ("sa.Numeric()", "sa.Numeric(10, 2)", True),
    ("sa.Integer()", "sa.BigInteger()", True),
    ("sa.DateTime()", "sa.DateTime(timezone=True)", True),
    ("sa.Text()", "postgresql.JSONB()", True),
]


def test_type_changes_that_rewrite_are_told_from_safe_widening(tmp_path: Path) -> None:
    for index, (old, new, _) in enumerate(TYPE_CHANGES):
        write_revision(
            tmp_path,
            f"r{index:02d}.py",
            f"""
from sqlalchemy.dialects import postgresql


def upgrade() -> None:
    op.alter_column("t", "c", type_={new}, existing_type={old})


def downgrade() -> None:
    op.alter_column("t", "c", type_={old}, existing_type={new})
""",
        )
    _, findings = run_json(tmp_path)
    flagged = {Path(f["file"]).name for f in findings if f["rule"] == "type-change-rewrite"}
    wrong = [
        (old, new)
        for index, (old, new, rewrites) in enumerate(TYPE_CHANGES)
        if (f"r{index:02d}.py" in flagged) != rewrites
    ]
    assert not wrong


SERVER_DEFAULTS = [
    ('sa.text("now()")', False),
    ("sa.func.now()", False),
    ('sa.text("CURRENT_TIMESTAMP")', False),
    ("sa.func.current_timestamp()", False),
    ('"member"', False),
    ('"random()"', False),
    ('sa.literal_column("random()")', True),
    ("sa.false()", False),
    ('sa.text("gen_random_uuid()")', True),
    ("sa.func.gen_random_uuid()", True),
    ('sa.text("random()")', True),
    ('sa.text("uuid_generate_v4()")', True),
    ('sa.text("clock_timestamp()")', True),
    ("sa.text(\"nextval('users_seq'::regclass)\")", True),
]


def test_volatile_defaults_are_told_from_stable_ones(tmp_path: Path) -> None:
    for index, (default, _) in enumerate(SERVER_DEFAULTS):
        write_revision(
            tmp_path,
            f"r{index:02d}.py",
            f"""
def upgrade() -> None:
    op.add_column("t", sa.Column("c", sa.Text(), server_default={default}))


def downgrade() -> None:
    op.drop_column("t", "c")
""",
        )
    _, findings = run_json(tmp_path)
    flagged = {Path(f["file"]).name for f in findings if f["rule"] == "volatile-default"}
    wrong = [
        default
        for index, (default, volatile) in enumerate(SERVER_DEFAULTS)
        if (f"r{index:02d}.py" in flagged) != volatile
    ]
    assert not wrong


def test_project_revisions_pass() -> None:
    """The project's own versions directory (from alembic.ini) passes, or carries suppressions."""
    if not (ROOT / "alembic.ini").is_file():
        pytest.skip("alembic.ini is not in this checkout")
    completed = run_checker()
    assert completed.returncode == 0, completed.stdout + completed.stderr


BATCHES_IN_ONE_TRANSACTION = '''"""backfill roles"""

import sqlalchemy as sa
from alembic import op

revision = "a1"
down_revision = None


def upgrade() -> None:
    bind = op.get_bind()
    for lower in range(0, 100_000, 1000):
        bind.execute(
            sa.text("UPDATE users SET role = 'member' WHERE id > :lo AND id <= :hi"),
            {"lo": lower, "hi": lower + 1000},
        )


def downgrade() -> None:
    pass
'''


def alembic_init(root: Path, template: str, folder: str) -> Path:
    """`alembic init -t TEMPLATE FOLDER` in ``root``; the new versions directory."""
    init = subprocess.run(
        [str(Path(sys.executable).with_name("alembic")), "init", "-t", template, folder],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert init.returncode == 0, init.stderr
    return root / folder / "versions"


def test_runs_from_the_root_of_a_fresh_async_template_project(tmp_path: Path) -> None:
    """Someone else's project: `alembic init -t async`, their layout, no arguments."""
    versions = alembic_init(tmp_path, "async", "migrations")
    (versions / "a1_backfill.py").write_text(BATCHES_IN_ONE_TRANSACTION)

    completed, findings = run_json(cwd=tmp_path)

    assert completed.returncode == 1, completed.stderr
    assert [(f["file"], f["line"], f["rule"]) for f in findings] == [
        ("migrations/versions/a1_backfill.py", 13, "unbatched-dml")
    ]
    assert "runs in batches inside one transaction" in findings[0]["message"]
    # From someone else's root the rule reference is this skill's absolute path.
    assert f"(see {DOC}#unbatched-dml)" in findings[0]["message"]
    assert DOC.is_file()


def test_runs_from_the_root_of_a_pyproject_template_project(tmp_path: Path) -> None:
    """`alembic init -t pyproject_async` keeps script_location in [tool.alembic], not the ini."""
    versions = alembic_init(tmp_path, "pyproject_async", "db")
    assert "script_location" not in (tmp_path / "alembic.ini").read_text().replace("# ", "")
    (versions / "a1_backfill.py").write_text(BATCHES_IN_ONE_TRANSACTION)

    completed, findings = run_json(cwd=tmp_path)

    assert completed.returncode == 1, completed.stderr
    assert [(f["file"], f["rule"]) for f in findings] == [
        ("db/versions/a1_backfill.py", "unbatched-dml")
    ]

    text = run_checker(cwd=tmp_path)
    assert text.stdout.splitlines()[-1].endswith(f"see {DOC}")


PYPROJECTS = {
    "template": """[project]\nname = "app"\n\n[tool.alembic]\n# where migrations live\n"""
    """script_location = "%(here)s/alembic"\nprepend_sys_path = [\n    "."\n]\n""",
    "list-of-locations": """[tool.alembic]\nscript_location = 'db'\nversion_locations = [\n"""
    """    "%(here)s/db/versions",  # main\n    "%(here)s/plugins/[x]/versions",\n]\n"""
    """[tool.other]\nscript_location = "not this one"\n""",
    "one-line-list": """[tool.alembic]\nversion_locations = ["a", 'b']  # two\n""",
    "no-table": """[tool.ruff]\nline-length = 100\n""",
}


@pytest.mark.parametrize("name", sorted(PYPROJECTS))
def test_python_3_10_reader_agrees_with_tomllib(name: str) -> None:
    """Without tomllib (3.10) a small reader takes the options that locate revisions."""
    import tomllib

    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from migration_checks.config import OPTIONS, read_tool_alembic
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    table = tomllib.loads(PYPROJECTS[name]).get("tool", {}).get("alembic", {})
    expected = {key: value for key, value in table.items() if key in OPTIONS}
    assert read_tool_alembic(PYPROJECTS[name]) == expected
    assert expected or name == "no-table"
