"""scripts/lock_trace.py tells the truth: every recipe step, traced, against what the docs claim.

recipes.md and checks.md say which lock each step takes and whether it
rewrites or scans a table. Here each recipe is traced on PostgreSQL with rows
in every table, and those claims are checked against the trace: when a claim
and the trace disagree, the claim is wrong.

The trace runs in this process (main() with --format json) on a scratch
database of the session's server; test_proof_scripts.py runs the scripts as
an agent would, as separate processes.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from project import (
    PROJECT_DIR,
    RECIPES,
    copy_project,
    example_revision,
    execute,
    fetch,
    install_revisions,
    revision_ids,
    transaction_held,
    url_text,
)
from sqlalchemy.engine import URL

sys.path.insert(0, str(PROJECT_DIR / "scripts"))

from migration_proof import trace as lock_trace
from migration_proof.locks import BLOCKS_WRITES, LOCKS, MODES

HEAD = revision_ids()[-1]
ROWS = "200"


@dataclass
class Trace:
    exit_code: int
    report: dict[str, Any]

    def statements(self, revision: str, starting: str = "") -> list[dict[str, Any]]:
        return [
            s
            for s in self.report["statements"]
            if s["revision"] == revision and s["sql"].upper().startswith(starting.upper())
        ]

    def statement(self, revision: str, starting: str) -> dict[str, Any]:
        (found,) = self.statements(revision, starting)
        return found


def locks_of(statement: dict[str, Any]) -> set[tuple[str, str]]:
    return {(lock["relation"], lock["mode"]) for lock in statement["locks"]}


def run_trace(
    project: Path,
    server: URL,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *args: str,
) -> Trace:
    """lock_trace.py's main() from ``project``'s root, on a scratch database of ``server``."""
    code, out = in_project(
        project, monkeypatch, capsys, lock_trace.main,
        *args, "--rows", ROWS, "--format", "json", "--postgres-url", url_text(server),
    )  # fmt: skip
    return Trace(code, json.loads(out))


def in_project(
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    main: Any,
    *args: str,
) -> tuple[int, str]:
    """A script's main() run from ``project``'s root, as its own process would: (exit, stdout).

    The script points DATABASE_URL at its scratch database; monkeypatch puts it back.
    """
    monkeypatch.chdir(project)
    monkeypatch.setenv("DATABASE_URL", "set by the script")
    capsys.readouterr()
    code = main(list(args))
    return code, capsys.readouterr().out


def recipe_project(tmp_path: Path, *sources: str | Path) -> Path:
    project = copy_project(tmp_path / "project")
    install_revisions(project, HEAD, *sources)
    return project


REVISION = '''"""{doc}"""

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "{down}"


def upgrade() -> None:
{body}


def downgrade() -> None:
    pass
'''


def written_revision(folder: Path, revision: str, doc: str, body: str, down: str = HEAD) -> Path:
    path = folder / f"{revision}.py"
    path.write_text(REVISION.format(doc=doc, revision=revision, down=down, body=body))
    return path


# --- what checks.md claims ----------------------------------------------------------


def test_checks_md_lock_claims(
    tmp_path: Path,
    postgres_server_url: URL,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Plain CREATE INDEX takes SHARE; a constant default rewrites nothing; a volatile one
    rewrites; SET NOT NULL with no validated CHECK scans the table."""
    drafts = tmp_path / "drafts"
    drafts.mkdir()
    steps = [
        ("a1", "plain index", '    op.create_index("ix_users_name", "users", ["name"])'),
        (
            "a2",
            "constant default",
            '    op.add_column("users", sa.Column("tier", sa.Text(), nullable=False, '
            'server_default="free"))',
        ),
        (
            "a3",
            "volatile default",
            '    op.add_column("users", sa.Column("public_id", sa.Uuid(), nullable=False, '
            'server_default=sa.text("gen_random_uuid()")))',
        ),
        ("a4", "set not null", '    op.alter_column("users", "name", nullable=False)'),
    ]
    files, down = [], HEAD
    for revision, doc, body in steps:
        files.append(written_revision(drafts, revision, doc, body, down))
        down = revision
    project = recipe_project(tmp_path, *files)

    traced = run_trace(project, postgres_server_url, monkeypatch, capsys, "--from", HEAD)

    assert ("users", "SHARE") in locks_of(traced.statement("a1", "CREATE INDEX"))
    constant = traced.statement("a2", "ALTER TABLE users ADD COLUMN")
    assert ("users", "ACCESS EXCLUSIVE") in locks_of(constant)
    assert constant["rewrites"] == []
    volatile = traced.statement("a3", "ALTER TABLE users ADD COLUMN")
    assert ("users", "ACCESS EXCLUSIVE") in locks_of(volatile)
    assert "users" in volatile["rewrites"]
    not_null = traced.statement("a4", "ALTER TABLE users ALTER COLUMN name SET NOT NULL")
    assert ("users", "ACCESS EXCLUSIVE") in locks_of(not_null)
    assert not_null["scans"] == ["users"]
    # A rewrite of a table with rows is a finding: exit 1, and the report says which.
    assert traced.exit_code == 1
    assert any("a3: rewrites users" in finding for finding in traced.report["findings"])


def test_a_row_lock_wait_is_not_a_table_lock(postgresql_url: URL) -> None:
    """pg_locks also names the table for a row-lock wait ('tuple', ExclusiveLock); the
    trace must not report that as an EXCLUSIVE lock on the table."""
    execute(postgresql_url, "CREATE TABLE counters (id int PRIMARY KEY, hits int)")
    execute(postgresql_url, "INSERT INTO counters VALUES (1, 0), (2, 0)")
    waiting_update = "UPDATE counters SET hits = 2 WHERE id = 1 /* waiter */"
    with transaction_held(postgresql_url, "UPDATE counters SET hits = 1 WHERE id = 1"):
        # Held until the test ends: a second update of row 1 waits for it.
        waiter = threading.Thread(target=execute, args=(postgresql_url, waiting_update))
        waiter.start()
        pid = wait_for_pid(postgresql_url, "%/* waiter */")
        raw = fetch(postgresql_url, f"SELECT locktype, mode FROM pg_locks WHERE pid = {pid}")
        traced = fetch(postgresql_url, LOCKS.format(pid=pid))
    waiter.join(30)

    assert ("tuple", "ExclusiveLock") in raw  # the look-alike is there
    assert traced == [("counters", "RowExclusiveLock")]


def wait_for_pid(url: URL, query_like: str) -> int:
    """The pid of the session whose query matches, once it waits for a lock."""
    find = (
        "SELECT pid FROM pg_stat_activity "
        f"WHERE query LIKE '{query_like}' AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = fetch(url, find)
        if found:
            return int(found[0][0])
        time.sleep(0.02)
    raise AssertionError(f"no session waiting on a lock runs {query_like!r}")


# --- recipes.md's lock tables, row by row ----------------------------------------------
#
# A table follows a marker naming the recipe and, when its first files only stand for
# the tables a project already has, the file the trace starts after:
#
#   <!-- lock-trace: bigint_key, from 1_create_orders.py -->
#   | Step | Statement | Locks | Rewrites | Scans | In a transaction |
#   |---|---|---|---|---|---|
#   | `2_add_columns.py` | `ALTER TABLE orders ADD COLUMN id_new` | ACCESS EXCLUSIVE on orders
#     | no | no | yes |   (one line in the file)
#
# A row holds for every statement of that file that starts with its text (whitespace
# runs count as one space). Locks lists, per table, the strongest lock its transaction
# holds once the statement has run, taken by it or by an earlier statement of that
# transaction ("none" for none): what waits for that transaction to end. Rewrites lists
# the tables and indexes whose files it replaces; Scans the tables it reads in full
# ("not measured" where the trace cannot tell: a concurrent build). Every statement
# that itself takes a write-blocking lock on a table it did not create needs a row.

RECIPES_MD = PROJECT_DIR / "references" / "recipes.md"
LOCK_TABLE = re.compile(
    r"^<!-- lock-trace: (?P<recipe>\w+)(?:, from (?P<start>[\w.]+))? -->\n"
    r"(?P<table>(?:\|.*\|\n)+)",
    re.MULTILINE,
)
COLUMNS = ["Step", "Statement", "Locks", "Rewrites", "Scans", "In a transaction"]


@dataclass
class LockRow:
    step: str
    statement: str
    locks: set[tuple[str, str]]
    rewrites: set[str]
    scans: set[str] | None
    in_transaction: bool

    @classmethod
    def parse(cls, cells: list[str]) -> LockRow:
        step, statement, locks, rewrites, scans, in_transaction = (c.strip("` ") for c in cells)
        assert in_transaction in ("yes", "no"), in_transaction
        return cls(
            step=step,
            statement=" ".join(statement.split()),
            locks=set()
            if locks == "none"
            else {
                (table.strip("` "), mode.strip())
                for mode, table in (lock.rsplit(" on ", 1) for lock in locks.split(", "))
            },
            rewrites=names(rewrites),
            scans=None if scans == "not measured" else names(scans),
            in_transaction=in_transaction == "yes",
        )


def names(cell: str) -> set[str]:
    return set() if cell == "no" else {name.strip("` ") for name in cell.split(", ")}


@dataclass
class LockTable:
    recipe: str
    start: str | None
    rows: list[LockRow]


def lock_tables(markdown: str) -> dict[str, LockTable]:
    tables: dict[str, LockTable] = {}
    for match in LOCK_TABLE.finditer(markdown):
        header, _rule, *body = match["table"].splitlines()
        cells = [[c.strip() for c in line.strip("|").split("|")] for line in (header, *body)]
        assert cells[0] == COLUMNS, f"{match['recipe']}: columns {cells[0]}"
        assert match["recipe"] not in tables, f"two lock tables for {match['recipe']}"
        rows = [LockRow.parse(row) for row in cells[1:]]
        tables[match["recipe"]] = LockTable(match["recipe"], match["start"], rows)
    return tables


LOCK_TABLES = lock_tables(RECIPES_MD.read_text())


def file_of(recipe: str, step: str) -> str:
    (found,) = (name for name in RECIPES[recipe] if Path(name).name == step)
    return found


VERSION_TABLE = "alembic_version"
LEVELS = [mode for mode, _ in MODES.values()]  # PostgreSQL's lock modes, weakest first


def stronger(mode: str, other: str | None) -> str:
    return mode if other is None or LEVELS.index(mode) > LEVELS.index(other) else other


def held_locks(statements: list[dict[str, Any]]) -> list[set[tuple[str, str]]]:
    """Per statement, the strongest lock its transaction holds on each table once it ran.

    A lock lasts until commit, so a statement run after an ALTER in the same
    transaction runs under the ALTER's lock, though it takes nothing new. Each
    revision has its own transaction (transaction_per_migration), and a statement
    outside one (autocommit_block) ends the transaction before it.
    """
    held: dict[str, str] = {}
    revision = None
    result = []
    for statement in statements:
        if not statement["in_transaction"] or statement["revision"] != revision:
            held = {}
        revision = statement["revision"] if statement["in_transaction"] else None
        for table, mode in locks_of(statement):
            if table != VERSION_TABLE:  # alembic's bookkeeping: every revision writes it
                held[table] = stronger(mode, held.get(table))
        result.append(set(held.items()))
        if not statement["in_transaction"]:
            held = {}
    return result


def as_row(step: str, statement: dict[str, Any], held: set[tuple[str, str]]) -> str:
    """The lock-table row the trace gives for one statement: for a failure message."""

    def listed(names: list[str] | None) -> str:
        return "not measured" if names is None else ", ".join(sorted(names)) or "no"

    locks = ", ".join(f"{mode} on {table}" for table, mode in sorted(held))
    return (
        f"| `{Path(step).name}` | `{normalized(statement['sql'])[:70]}` | {locks or 'none'} "
        f"| {listed(statement['rewrites'])} | {listed(statement['scans'])} "
        f"| {'yes' if statement['in_transaction'] else 'no'} |"
    )


def normalized(sql: str) -> str:
    return " ".join(sql.split())


# Recipes that touch different columns of the project's own tables share one trace, one
# after the other; every other recipe is traced on its own.
SHARED_TRACES = {
    "columns-indexes-constraints-views": [
        "not_null", "index", "enum", "batch_alter", "foreign_key", "backfill", "view",
    ],
}  # fmt: skip
NO_DDL = {"merge_branches", "merge"}


def trace_groups() -> dict[str, list[str]]:
    shared = {recipe for group in SHARED_TRACES.values() for recipe in group}
    return SHARED_TRACES | {r: [r] for r in sorted(LOCK_TABLES) if r not in shared}


def test_every_recipe_has_a_lock_table() -> None:
    assert set(LOCK_TABLES) | NO_DDL == set(RECIPES)
    shared = [recipe for group in SHARED_TRACES.values() for recipe in group]
    assert len(shared) == len(set(shared)) and set(shared) <= set(LOCK_TABLES)
    # A shared trace starts at the project's head: a recipe with tables of its own goes alone.
    assert all(LOCK_TABLES[recipe].start is None for recipe in shared)


@pytest.mark.parametrize("group", trace_groups())
def test_recipes_md_lock_tables_are_what_the_trace_sees(
    group: str,
    tmp_path: Path,
    postgres_server_url: URL,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each row holds for the statements it names, no write-blocking lock goes unlisted,
    and lock_trace finds nothing to report: every recipe is safe on tables with rows."""
    recipes = trace_groups()[group]
    project = copy_project(tmp_path / "project")
    base = HEAD
    for recipe in recipes:
        install_revisions(project, base, *RECIPES[recipe])
        base = example_revision(RECIPES[recipe][-1])
    first = LOCK_TABLES[recipes[0]]
    start = example_revision(file_of(first.recipe, first.start)) if first.start else HEAD

    traced = run_trace(project, postgres_server_url, monkeypatch, capsys, "--from", start)

    assert traced.report["failed"] is None, traced.report["failed"]
    statements = traced.report["statements"]
    held = held_locks(statements)
    for recipe in recipes:
        check_lock_table(LOCK_TABLES[recipe], statements, held)
    assert (traced.exit_code, traced.report["findings"]) == (0, [])


def check_lock_table(
    table: LockTable, statements: list[dict[str, Any]], held: list[set[tuple[str, str]]]
) -> None:
    step_of = {example_revision(name): name for name in RECIPES[table.recipe]}
    covered: set[int] = set()
    for row in table.rows:
        revision = example_revision(file_of(table.recipe, row.step))
        matching = [
            i
            for i, s in enumerate(statements)
            if s["revision"] == revision
            and normalized(s["sql"]).upper().startswith(row.statement.upper())
        ]
        assert matching, f"{row.step}: no statement starts with {row.statement!r}"
        for i in matching:
            found = statements[i]
            seen = (
                held[i],
                set(found["rewrites"]),
                None if found["scans"] is None else set(found["scans"]),
                found["in_transaction"],
            )
            claimed = (row.locks, row.rewrites, row.scans, row.in_transaction)
            assert seen == claimed, f"the trace sees:\n{as_row(row.step, found, held[i])}"
            covered.add(i)
    unlisted = [
        as_row(step_of[s["revision"]], s, held[i])
        for i, s in enumerate(statements)
        if s["revision"] in step_of
        and i not in covered
        and any(
            lock["mode"] in BLOCKS_WRITES and lock["relation"] not in s["created"]
            for lock in s["locks"]
        )
    ]
    assert not unlisted, f"rows missing from {table.recipe}'s lock table:\n" + "\n".join(unlisted)


# --- references/verifying.md shows what the tools print ---------------------------------

VERIFYING_MD = (PROJECT_DIR / "references" / "verifying.md").read_text()
UNSAFE_REVISION = f'''"""index users.name, add users.public_id"""

import sqlalchemy as sa
from alembic import op

revision = "b1"
down_revision = "{HEAD}"


def upgrade() -> None:
    op.create_index("ix_users_name", "users", ["name"])
    op.add_column(
        "users",
        sa.Column("public_id", sa.Uuid(), server_default=sa.text("gen_random_uuid()")),
    )


def downgrade() -> None:
    op.drop_column("users", "public_id")
    op.drop_index("ix_users_name", table_name="users")
'''


def example(name: str) -> list[str]:
    match = re.search(rf"<!-- example: {name} -->\n```\n(.*?)```", VERIFYING_MD, re.DOTALL)
    assert match, f"verifying.md has no example {name}"
    return match[1].splitlines()


def claim_lines(lines: list[str]) -> list[str]:
    """What does not depend on timing or row counts: statements, locks, rewrites, scans."""
    kept = []
    for line in lines:
        if re.match(r"^\s+[\d.]+ ms  ", line):
            kept.append(re.sub(r"^\s+[\d.]+ ms  ", "", line))
        elif line.startswith(" " * 16) or re.match(r"^\w+  ", line):
            kept.append(line.strip())
    return kept


@pytest.mark.parametrize(
    ("name", "revision"),
    [
        ("trace-unsafe", "unsafe"),
        ("trace-safe", "03_create_index_concurrently.py"),
    ],
)
def test_verifying_md_trace_examples_are_what_the_tool_prints(
    name: str,
    revision: str,
    tmp_path: Path,
    postgres_server_url: URL,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if revision == "unsafe":
        draft = tmp_path / "b1_unsafe.py"
        draft.write_text(UNSAFE_REVISION)
        project = recipe_project(tmp_path, draft)
    else:
        project = recipe_project(tmp_path, revision)
    code, out = in_project(project, monkeypatch, capsys, lock_trace.main, "--rows", ROWS,
                           "--postgres-url", url_text(postgres_server_url))  # fmt: skip
    printed = out.splitlines()

    assert claim_lines(printed) == claim_lines(example(name)), "\n".join(printed)
    if revision == "unsafe":  # a rewrite is a finding at any size
        assert code == 1
        assert any(line.startswith("  b1: rewrites users, a table with rows") for line in printed)


def test_verifying_md_verify_example_is_what_the_tool_prints(
    tmp_path: Path,
    postgres_server_url: URL,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from migration_proof import verify

    project = copy_project(tmp_path / "project")
    code, out = in_project(
        project, monkeypatch, capsys, verify.main, "--postgres-url", url_text(postgres_server_url)
    )
    printed = out.splitlines()

    def shape(lines: list[str]) -> list[str]:
        return [re.sub(r"\s+[\d.]+ s$", "", line) for line in lines]

    assert code == 0
    assert shape(printed) == shape(example("verify-ok"))
