"""evals/evals.json: well formed, one eval per recipe, and its checks grade for real.

A small grader below runs an eval's checks against revision files. Graded on the
recipes themselves (the reference solutions) every check passes; graded on a
rename written as drop + add, the data checks fail.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from checker import run_checker
from cookbook import Recipe, prepare
from project import EXAMPLES, PROJECT_DIR
from sqlalchemy import pool, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine

EVALS_JSON = PROJECT_DIR / "evals" / "evals.json"
DIALECTS = ("sqlite", "postgresql")
POINTS = {"first_revision", "head", "downgraded"}
# Every kind a grader must understand, with the fields it cannot do without.
KINDS: dict[str, set[str]] = {
    "upgrade_downgrade_roundtrip": {"dialects"},
    "data_preserved": {"at", "sql", "expected_rows"},
    "statement_fails": {"at", "sql"},
    "statement_succeeds": {"at", "sql"},
    "index": {"at", "table", "columns", "exists"},
    "pattern": {"regex", "why"},
    "no_pattern": {"regex", "why"},
    "checker_clean": set(),
    "min_revisions": {"count"},
    "single_head": set(),
    "files_unchanged": {"paths"},
    "resumes_after_interrupt": {
        "logger",
        "message_regex",
        "interrupt_after",
        "progress_sql",
        "total",
        "final_sql",
        "final_expected_rows",
    },
}
DEFAULT_START = "3525a8febceb"


def entry_dialects(entry: dict[str, Any]) -> list[str]:
    """Where an eval runs: a PostgreSQL-only topic (partitions, grants) says so."""
    return entry.get("dialects", list(DIALECTS))


def load() -> dict[str, Any]:
    return json.loads(EVALS_JSON.read_text())


EVALS = load()["evals"]


# Structure ---------------------------------------------------------------------------


def test_top_level_shape() -> None:
    document = load()
    assert document["skill_name"] == "alembic"
    skill_name = re.search(r"^name: (\S+)$", (PROJECT_DIR / "SKILL.md").read_text(), re.M)
    assert skill_name and skill_name[1] == document["skill_name"]
    assert isinstance(document["evals"], list) and document["evals"]
    # The file documents exactly the kinds a grader knows, with the same required fields.
    assert {k: set(v["required"]) for k, v in document["check_kinds"].items()} == KINDS


def test_ids_and_names_are_unique() -> None:
    ids = [entry["id"] for entry in EVALS]
    assert all(isinstance(i, int) for i in ids)
    assert len(set(ids)) == len(ids)
    names = [entry["name"] for entry in EVALS]
    assert len(set(names)) == len(names)


def test_every_recipe_has_an_eval() -> None:
    covered = {p for entry in EVALS for p in entry["recipe"] + entry["files"]}
    on_disk = {f"examples/{p.relative_to(EXAMPLES)}" for p in EXAMPLES.rglob("*.py")}
    assert covered == on_disk
    recipes = {Path(p).parts[1] for p in on_disk}
    assert {Path(p).parts[1] for entry in EVALS for p in entry["recipe"]} == recipes


@pytest.mark.parametrize("entry", EVALS, ids=lambda e: e["name"])
def test_entry_is_well_formed(entry: dict[str, Any]) -> None:
    for field in ("prompt", "expected_output"):
        assert isinstance(entry[field], str) and len(entry[field]) > 40, field
    assert entry["assertions"] and all(isinstance(a, str) and a for a in entry["assertions"])
    assert all((PROJECT_DIR / p).is_file() for p in entry["recipe"] + entry["files"])
    assert all(isinstance(sql, str) for sql in entry["seed_sql"])
    assert entry_dialects(entry) and set(entry_dialects(entry)) <= set(DIALECTS)
    kinds = [check["kind"] for check in entry["checks"]]
    # Every eval runs the migration and runs the safety checker on it.
    assert {"upgrade_downgrade_roundtrip", "checker_clean"} <= set(kinds)
    assert "data_preserved" in kinds
    for check in entry["checks"]:
        assert check["kind"] in KINDS, check
        assert KINDS[check["kind"]] <= set(check), check
        assert set(check.get("dialects", entry_dialects(entry))) <= set(entry_dialects(entry)), (
            check
        )
        if "at" in check:
            assert check["at"] in POINTS, check
        if "regex" in check:
            re.compile(check["regex"])
        if "expected_rows" in check:
            assert all(isinstance(row, list) for row in check["expected_rows"]), check


# A grader ----------------------------------------------------------------------------


class Interrupted(Exception):
    """Raised from the log to stand for a killed deploy."""


class InterruptAfter(logging.Handler):
    def __init__(self, pattern: str, records: int) -> None:
        super().__init__()
        self.pattern = re.compile(pattern)
        self.left = records

    def emit(self, record: logging.LogRecord) -> None:
        if self.pattern.search(record.getMessage()):
            self.left -= 1
            if self.left == 0:
                raise Interrupted


def run_rolled_back(url: URL, sql: str) -> None:
    """Run one statement in a transaction, then roll it back."""

    async def run() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        try:
            async with engine.connect() as connection:
                try:
                    await connection.execute(text(sql))
                finally:
                    await connection.rollback()
        finally:
            await engine.dispose()

    asyncio.run(run())


def as_lists(rows: list[tuple[Any, ...]]) -> list[list[Any]]:
    return [list(row) for row in rows]


class Grader:
    """Runs one eval's checks against revision files on one database."""

    def __init__(self, entry: dict[str, Any], solution: list[Path], recipe: Recipe) -> None:
        self.entry = entry
        self.solution = solution
        self.recipe = recipe
        self.failures: list[str] = []
        dialects = entry_dialects(entry)
        self.checks = [c for c in entry["checks"] if recipe.dialect in c.get("dialects", dialects)]

    def of_kind(self, *kinds: str, at: str | None = None) -> list[dict[str, Any]]:
        return [c for c in self.checks if c["kind"] in kinds and c.get("at", at) == at]

    def fail(self, check: dict[str, Any], why: str) -> None:
        self.failures.append(f"{check['kind']}: {why}")

    def static_checks(self) -> None:
        source = "\n".join(path.read_text() for path in self.solution)
        for check in self.of_kind("pattern"):
            if not re.search(check["regex"], source, re.M):
                self.fail(check, f"no match for {check['regex']!r} ({check['why']})")
        for check in self.of_kind("no_pattern"):
            if re.search(check["regex"], source, re.M):
                self.fail(check, f"matches {check['regex']!r} ({check['why']})")
        for check in self.of_kind("min_revisions"):
            if len(self.solution) < check["count"]:
                self.fail(check, f"{len(self.solution)} revisions")
        for check in self.of_kind("single_head"):
            if len(self.recipe.heads()) != 1:
                self.fail(check, f"heads: {self.recipe.heads()}")
        for check in self.of_kind("files_unchanged"):
            for path in check["paths"]:
                installed = self.recipe.versions / Path(path).name
                if installed.read_text() != self.installed_inputs[path]:
                    self.fail(check, f"{path} was edited")
        for check in self.of_kind("checker_clean"):
            result = run_checker(*self.solution)
            if result.returncode != 0:
                self.fail(check, result.stdout + result.stderr)

    def state_checks(self, at: str) -> None:
        for check in self.of_kind("data_preserved", at=at):
            rows = as_lists(self.recipe.rows(check["sql"]))
            if rows != check["expected_rows"]:
                self.fail(check, f"at {at}: {check['sql']} gave {rows}")
        for check in self.of_kind("index", at=at):
            indexes = self.recipe.inspect(lambda i, t=check["table"]: i.get_indexes(t))
            found = any(ix["column_names"] == check["columns"] for ix in indexes)
            if found != check["exists"]:
                self.fail(check, f"at {at}: index on {check['columns']} exists: {found}")
        for check in self.of_kind("statement_fails", "statement_succeeds", at=at):
            try:
                run_rolled_back(self.recipe.url, check["sql"])
                failed = False
            except Exception:
                failed = True
            if failed != (check["kind"] == "statement_fails"):
                self.fail(check, f"at {at}: {check['sql'][:80]} failed: {failed}")

    def interrupt_and_resume(self, check: dict[str, Any]) -> None:
        logger = logging.getLogger(check["logger"])
        handler = InterruptAfter(check["message_regex"], check["interrupt_after"])
        level = logger.level
        logger.setLevel(logging.INFO)
        logger.addHandler(handler)
        try:
            self.recipe.upgrade("heads")
            self.fail(check, "the upgrade was never interrupted: no progress records?")
            return
        except Interrupted:
            pass
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)
        ((done,),) = self.recipe.rows(check["progress_sql"])
        if not 0 < done < check["total"]:
            self.fail(check, f"after the interruption {done} of {check['total']} rows were kept")
        if set(self.recipe.heads()) & {v for (v,) in self.recipe.rows(VERSIONS)}:
            self.fail(check, "the interrupted revision was marked as applied")

    def run(self) -> list[str]:
        entry, recipe = self.entry, self.recipe
        self.installed_inputs = {p: (PROJECT_DIR / p).read_text() for p in entry["files"]}
        recipe.install(*(PROJECT_DIR / p for p in entry["files"]), batch_size=None)
        recipe.install(*self.solution, batch_size=None)
        self.static_checks()
        try:
            for revision in entry.get("start", [DEFAULT_START]):
                recipe.upgrade(revision)
            for sql in entry["seed_sql"]:
                recipe.run(sql)
            for check in self.of_kind("resumes_after_interrupt"):
                self.interrupt_and_resume(check)
            recipe.upgrade(self.first_new_revision())
            self.state_checks("first_revision")
            recipe.upgrade("heads")
            self.state_checks("head")
            for check in self.of_kind("resumes_after_interrupt"):
                rows = as_lists(recipe.rows(check["final_sql"]))
                if rows != check["final_expected_rows"]:
                    self.fail(check, f"after the rerun {check['final_sql']} gave {rows}")
            recipe.downgrade(entry.get("downgrade_to", DEFAULT_START))
            self.state_checks("downgraded")
            recipe.upgrade("heads")
        except Exception as exc:
            self.failures.append(f"migration failed: {type(exc).__name__}: {exc}")
        return self.failures

    def first_new_revision(self) -> str:
        script = ScriptDirectory.from_config(self.recipe.config)
        new = {read_revision(path) for path in self.solution}
        for revision in new:
            down = script.get_revision(revision).down_revision
            downs = set(down) if isinstance(down, tuple) else {down}
            if not downs & new:
                return revision
        raise AssertionError("no first revision among the new ones")


VERSIONS = "SELECT version_num FROM alembic_version"


def read_revision(path: Path) -> str:
    match = re.search(r'^revision: str = "(\w+)"$', path.read_text(), re.M)
    assert match, path
    return match[1]


def grade(
    entry: dict[str, Any],
    solution: list[Path],
    url: URL,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> list[str]:
    return Grader(entry, solution, prepare(tmp_path, url, monkeypatch)).run()


def reference(entry: dict[str, Any]) -> list[Path]:
    return [PROJECT_DIR / p for p in entry["recipe"]]


@pytest.mark.parametrize(
    "entry", [e for e in EVALS if "sqlite" in entry_dialects(e)], ids=lambda e: e["name"]
)
def test_reference_solution_passes_on_sqlite(
    entry: dict[str, Any], sqlite_url: URL, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert grade(entry, reference(entry), sqlite_url, tmp_path, monkeypatch) == []


POSTGRESQL_ONLY = [
    e
    for e in EVALS
    if entry_dialects(e) == ["postgresql"]
    or any(c.get("dialects") == ["postgresql"] for c in e["checks"])
]


@pytest.mark.parametrize("entry", POSTGRESQL_ONLY, ids=lambda e: e["name"])
def test_reference_solution_passes_postgresql_only_checks(
    entry: dict[str, Any], postgresql_url: URL, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert grade(entry, reference(entry), postgresql_url, tmp_path, monkeypatch) == []


DROP_AND_ADD = '''"""rename users.name to display_name, the way autogenerate writes it

Revision ID: 0badbadbad01
Revises: 3525a8febceb
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0badbadbad01"
down_revision: str | None = "3525a8febceb"


def upgrade() -> None:
    op.add_column("users", sa.Column("display_name", sa.String(length=100), nullable=True))
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("name")


def downgrade() -> None:
    op.add_column("users", sa.Column("name", sa.String(length=100), nullable=True))
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("display_name")
'''


def test_grader_fails_a_rename_that_loses_data(
    sqlite_url: URL, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (entry,) = (e for e in EVALS if e["name"] == "rename-column")
    solution = tmp_path / "0badbadbad01_rename.py"
    solution.write_text(DROP_AND_ADD)
    failures = grade(entry, [solution], sqlite_url, tmp_path, monkeypatch)
    kinds = {failure.split(":")[0] for failure in failures}
    assert {"data_preserved", "no_pattern", "checker_clean"} <= kinds, failures
