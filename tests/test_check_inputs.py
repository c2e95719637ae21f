"""check_migrations.py on inputs real projects have: --since, odd files, deep nesting.

Each case runs the checker as a subprocess, the way an agent or CI runs it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from checker import run_checker


def revision(rev: str, down: str | tuple[str, ...] | None, upgrade: str, helpers: str = "") -> str:
    """A revision file whose upgrade() body is ``upgrade``."""
    body = "\n".join(f"    {line}" for line in upgrade.strip().splitlines())
    return (
        f'"""Revision {rev}."""\n\nimport sqlalchemy as sa\nfrom alembic import op\n\n'
        f"revision = {rev!r}\ndown_revision = {down!r}\n\n{helpers}\n"
        f"def upgrade() -> None:\n{body}\n\n\ndef downgrade() -> None:\n"
        "    raise NotImplementedError('test revision')\n"
    )


def check(*args: str | Path, cwd: Path) -> tuple[subprocess.CompletedProcess[str], Any]:
    """The run and its JSON (a list of findings, or the exit-2 object); None if no output."""
    completed = run_checker("--format", "json", *args, cwd=cwd)
    return completed, json.loads(completed.stdout) if completed.stdout else None


def rules_by_file(findings: list[dict[str, Any]]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for finding in findings:
        if finding["severity"] == "error":
            found.setdefault(Path(finding["file"]).name, set()).add(finding["rule"])
    return found


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """a1 (deployed) <- a2 creates `reports` <- a3 indexes `reports` and `users`."""
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "a1.py").write_text(revision("a1", None, "pass"))
    create = 'op.create_table("reports", sa.Column("id", sa.Integer(), primary_key=True))'
    (versions / "a2.py").write_text(revision("a2", "a1", create))
    index = (
        'op.create_index("ix_reports_id", "reports", ["id"])\n'
        'op.create_index("ix_users_email", "users", ["email"])'
    )
    (versions / "a3.py").write_text(revision("a3", "a2", index))
    return versions


def test_since_treats_tables_created_after_the_deployed_head_as_new(history: Path) -> None:
    _, without = check(history, cwd=history.parent)
    _, since = check("--since", "a1", history, cwd=history.parent)

    def index_tables(findings: list[dict[str, Any]]) -> set[str]:
        rows = [f for f in findings if f["rule"] == "index-not-concurrent"]
        return {
            word for f in rows for word in ("reports", "users") if f" on {word} " in f["message"]
        }

    assert index_tables(without) == {"reports", "users"}
    assert index_tables(since) == {"users"}  # reports is not in production yet
    # The deployed head's own tables exist in production.
    _, at_a2 = check("--since", "a2", history, cwd=history.parent)
    assert index_tables(at_a2) == {"reports", "users"}


@pytest.mark.parametrize(
    ("since", "reason"),
    [("zz", "no such revision among the 3 checked"), ("a", "ambiguous revision prefix")],
)
def test_since_names_a_checked_revision(history: Path, since: str, reason: str) -> None:
    completed, report = check("--since", since, history, cwd=history.parent)
    assert completed.returncode == 2
    assert report["error"].startswith(f"--since {since}: error: {reason}")
    assert completed.stderr.count("\n") == 1


def test_a_byte_order_mark_is_python_like_any_other(tmp_path: Path) -> None:
    text = revision("b1", None, 'op.drop_column("users", "nickname")')
    (tmp_path / "bom.py").write_text(text, encoding="utf-8-sig")
    completed, findings = check(tmp_path / "bom.py", cwd=tmp_path)
    assert completed.returncode == 1, completed.stderr
    assert rules_by_file(findings) == {"bom.py": {"drop-column"}}


def test_a_thousand_term_expression_and_a_160_helper_chain(tmp_path: Path) -> None:
    """Deep but valid code is checked: the drop at the end of the chain is found."""
    terms = " + ".join(["1"] * 1000)
    wide = revision("c1", None, f"x = {terms}\nop.drop_column('users', 'a')")
    chain = "".join(f"def h{i}() -> None:\n    h{i + 1}()\n\n\n" for i in range(160))
    chain += "def h160() -> None:\n    op.drop_column('users', 'b')\n\n"
    deep = revision("c2", None, "h0()", helpers=chain)
    (tmp_path / "wide.py").write_text(wide)
    (tmp_path / "deep.py").write_text(deep)

    completed, findings = check(tmp_path, cwd=tmp_path)

    assert completed.returncode == 1, completed.stderr
    assert rules_by_file(findings) == {"wide.py": {"drop-column"}, "deep.py": {"drop-column"}}


def test_a_file_too_deep_to_follow_is_unusable_and_the_others_are_checked(
    tmp_path: Path,
) -> None:
    chain = "".join(f"def h{i}() -> None:\n    h{i + 1}()\n\n\n" for i in range(5000))
    chain += "def h5000() -> None:\n    op.drop_column('users', 'b')\n\n"
    (tmp_path / "abyss.py").write_text(revision("d1", None, "h0()", helpers=chain))
    (tmp_path / "plain.py").write_text(revision("d2", None, 'op.drop_table("legacy")'))

    completed, report = check(tmp_path, cwd=tmp_path)

    assert completed.returncode == 2
    assert completed.stderr.splitlines() == [
        "abyss.py:1: error: nested too deeply for the checker to follow; review it by hand"
    ]
    assert rules_by_file(report["findings"]) == {"plain.py": {"drop-table"}}


def test_one_line_gives_one_finding_per_rule(tmp_path: Path) -> None:
    """Two statements in one execute(), or two calls on one line: one place to fix."""
    sql = "UPDATE users SET a = 1; UPDATE users SET a = 2 WHERE a IS NULL"
    drops = "op.drop_column('users', 'a'); op.drop_column('users', 'b')"
    (tmp_path / "e1.py").write_text(revision("e1", None, f"op.execute({sql!r})\n{drops}"))
    _, findings = check(tmp_path, cwd=tmp_path)
    by_rule = {
        rule: [f for f in findings if f["rule"] == rule]
        for rule in ("unbatched-dml", "drop-column")
    }
    assert [len(found) for found in by_rule.values()] == [1, 1], findings
    assert (
        "drops users.a, which running code may read; and 1 more on this line"
        in (by_rule["drop-column"][0]["message"])
    )


def test_the_summary_says_how_many_revisions_were_checked_as_sqlite_only(tmp_path: Path) -> None:
    folder = tmp_path / "versions" / "sqlite"
    folder.mkdir(parents=True)
    (folder / "s1.py").write_text(revision("s1", None, 'op.create_index("ix", "users", ["a"])'))
    completed = run_checker(folder)
    assert completed.returncode == 0, completed.stdout
    assert "index-not-concurrent" not in completed.stdout
    assert completed.stdout.splitlines()[-1].startswith(
        "0 error(s), 1 warning(s) in 1 revision file (1 SQLite-only: PostgreSQL lock rules skipped)"
    )


@pytest.mark.parametrize(
    ("folders", "sqlite_only"),
    [
        ("app/versions/sqlite", True),
        ("app/sqlite_versions", True),
        ("sqlite-tools/app/versions", False),
    ],
)
def test_only_a_history_folder_makes_a_revision_sqlite_only(
    tmp_path: Path, folders: str, sqlite_only: bool
) -> None:
    """A folder of SQLite revisions does; a project that lives in ~/sqlite-tools does not."""
    folder = tmp_path / folders
    folder.mkdir(parents=True)
    (folder / "f1.py").write_text(revision("f1", None, 'op.create_index("ix", "users", ["a"])'))
    _, findings = check(tmp_path, cwd=tmp_path)
    assert (
        "index-not-concurrent" not in rules_by_file(findings).get("f1.py", set())
    ) is sqlite_only


def test_folders_above_the_checked_root_say_nothing(tmp_path: Path) -> None:
    """A project kept in a folder named sqlite is still a PostgreSQL project."""
    versions = tmp_path / "sqlite" / "app" / "alembic" / "versions"
    versions.mkdir(parents=True)
    (versions / "g1.py").write_text(revision("g1", None, 'op.create_index("ix", "users", ["a"])'))
    _, findings = check(versions, cwd=tmp_path)
    assert rules_by_file(findings) == {"g1.py": {"index-not-concurrent"}}


def test_since_counts_an_unmerged_branch_as_new(tmp_path: Path) -> None:
    """A feature branch that forked before production's revision is not in production."""
    versions = tmp_path / "versions"
    versions.mkdir()
    table = 'op.create_table("{0}", sa.Column("id", sa.Integer(), primary_key=True))'
    (versions / "a.py").write_text(revision("old0", None, table.format("t0")))
    (versions / "b.py").write_text(revision("prod", "old0", "pass"))
    (versions / "c.py").write_text(revision("feat", "old0", table.format("tb")))
    (versions / "d.py").write_text(revision("merg", ("prod", "feat"), "pass"))
    index = 'op.create_index("ix_tb", "tb", ["id"])\nop.create_index("ix_t0", "t0", ["id"])'
    (versions / "e.py").write_text(revision("idx0", "merg", index))

    _, findings = check("--since", "prod", versions, cwd=tmp_path)

    indexed = [f["message"] for f in findings if f["rule"] == "index-not-concurrent"]
    assert len(indexed) == 1 and " on t0 " in indexed[0], indexed


def test_since_adds_up_the_tables_of_files_that_share_an_id(tmp_path: Path) -> None:
    """Histories that share ids (one per dialect) or a copied file: neither table is lost."""
    versions = tmp_path / "versions"
    versions.mkdir()
    table = 'op.create_table("{0}", sa.Column("id", sa.Integer(), primary_key=True))'
    (versions / "a.py").write_text(revision("r1", None, "pass"))
    (versions / "b.py").write_text(revision("r2", "r1", table.format("t1")))
    (versions / "c.py").write_text(revision("r2", "r1", table.format("t2")))
    index = 'op.create_index("ix_t1", "t1", ["id"])\nop.create_index("ix_t2", "t2", ["id"])'
    (versions / "d.py").write_text(revision("r3", "r2", index))

    completed, findings = check("--since", "r1", versions, cwd=tmp_path)
    without_since, all_findings = check(versions, cwd=tmp_path)

    assert completed.returncode in (0, 1), completed.stderr
    assert [f for f in findings if f["rule"] == "index-not-concurrent"] == []
    assert without_since.returncode == 1, without_since.stderr  # shared ids are no error
    assert len([f for f in all_findings if f["rule"] == "index-not-concurrent"]) == 2


def test_source_is_decoded_as_python_decodes_it(tmp_path: Path) -> None:
    """A coding cookie is honoured; bytes that are not text in that encoding are unusable."""
    latin = "# -*- coding: latin-1 -*-\n" + revision("h1", None, 'op.drop_column("users", "é")')
    (tmp_path / "latin.py").write_bytes(latin.encode("latin-1"))
    (tmp_path / "broken.py").write_bytes(b"revision = 'h2'\n\n# \xff\xfe not utf-8\n")
    (tmp_path / "cookieless.py").write_bytes(b"# \xff not utf-8, no cookie\nrevision = 'h3'\n")

    completed, report = check(tmp_path, cwd=tmp_path)

    assert completed.returncode == 2
    assert completed.stderr.splitlines() == [
        "broken.py:1: error: not utf-8 text (invalid start byte)",
        "cookieless.py:1: error: not UTF-8 text and no usable coding cookie "
        "(invalid or missing encoding declaration)",
    ]
    assert rules_by_file(report["findings"]) == {"latin.py": {"drop-column"}}


def test_an_upgrade_assigned_from_a_function_is_checked(tmp_path: Path) -> None:
    """``upgrade = _shared`` is a revision alembic runs, so the checker reads _shared."""
    text = revision("i1", None, "pass").replace(
        "def upgrade() -> None:\n    pass\n",
        "def _shared() -> None:\n    op.drop_table('legacy')\n\n\nupgrade = _shared\n",
    )
    (tmp_path / "assigned.py").write_text(text)
    completed, findings = check(tmp_path, cwd=tmp_path)
    assert completed.returncode == 1, completed.stderr
    assert rules_by_file(findings) == {"assigned.py": {"drop-table"}}
