"""Recipe 12: a primary key and a unique constraint on a busy table, without a long lock.

On PostgreSQL the recipe proves id has no NULL with a validated CHECK, builds
both unique indexes concurrently, and attaches them with USING INDEX: no build
and no scan while ACCESS EXCLUSIVE is held. The plain ADD PRIMARY KEY it
replaces is measured here too: it scans and builds under that lock. On SQLite
the same revision is a batch copy. NULLs, duplicates and a reader holding the
table make revisions fail; each is rerun to the end.
"""

from __future__ import annotations

import ast
import asyncio
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cookbook import Recipe, fails, prepare
from project import EXAMPLES, RECIPES, example_revision, table_locked
from sqlalchemy import pool, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine

SETUP, CHECK, CONSTRAINTS = (example_revision(f) for f in RECIPES["primary_key"])
EVENTS = [(n, f"event-{n}", f"payload {n}") for n in range(1, 7)]
ROWS = "SELECT id, event_key, payload FROM audit_events ORDER BY id"
INSERT = "INSERT INTO audit_events (id, event_key, payload) VALUES (:id, :event_key, :payload)"
BUILT = {"ix_audit_events_id_unique": "pk_audit_events",
         "ix_audit_events_event_key_unique": "uq_audit_events_event_key"}  # fmt: skip
PROOF = 'existing constraints on column "audit_events.id" are sufficient to prove'


def at_setup(recipe: Recipe, events: list[tuple[Any, ...]] = EVENTS) -> Recipe:
    """The recipe installed, audit_events created (revision 1) and filled."""
    recipe.install(*RECIPES["primary_key"])
    recipe.upgrade(SETUP)
    recipe.run(INSERT, [dict(zip(("id", "event_key", "payload"), e, strict=True)) for e in events])
    return recipe


def key_of(recipe: Recipe) -> dict[str, Any]:
    def read(inspector: Any) -> dict[str, Any]:
        pk = inspector.get_pk_constraint("audit_events")
        return {
            "primary_key": (pk["name"], pk["constrained_columns"]) if pk["constrained_columns"]
            else None,
            "unique": [(u["name"], u["column_names"])
                       for u in inspector.get_unique_constraints("audit_events")],
            "id_nullable": next(c["nullable"] for c in inspector.get_columns("audit_events")
                                if c["name"] == "id"),
        }  # fmt: skip

    return recipe.inspect(read)


def check_state(recipe: Recipe) -> list[tuple[Any, ...]]:
    """(name, validated) of audit_events' CHECK constraints on PostgreSQL."""
    return recipe.rows(
        "SELECT conname, convalidated FROM pg_constraint "
        "WHERE conrelid = 'audit_events'::regclass AND contype = 'c'"
    )


def indexes(recipe: Recipe) -> dict[str, bool]:
    """audit_events' indexes on PostgreSQL: name -> valid."""
    return dict(
        recipe.rows(
            "SELECT c.relname, i.indisvalid FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'audit_events'::regclass"
        )
    )


NO_KEY = {"primary_key": None, "unique": [], "id_nullable": True}
KEYED = {
    "primary_key": ("pk_audit_events", ["id"]),
    "unique": [("uq_audit_events_event_key", ["event_key"])],
    "id_nullable": False,
}


def test_primary_key_using_index(recipe: Recipe) -> None:
    at_setup(recipe)
    postgresql = recipe.dialect == "postgresql"

    recipe.upgrade(CHECK)
    assert key_of(recipe) == NO_KEY
    if postgresql:
        assert check_state(recipe) == [("ck_audit_events_id_not_null", True)]
        with fails("ck_audit_events_id_not_null"):
            recipe.run(INSERT, [{"id": None, "event_key": "late", "payload": None}])

    recipe.upgrade(CONSTRAINTS)
    assert key_of(recipe) == KEYED
    assert recipe.rows(ROWS) == EVENTS
    if postgresql:
        assert check_state(recipe) == []
        # Each index now carries its constraint's name; the build names are gone.
        assert indexes(recipe) == {"pk_audit_events": True, "uq_audit_events_event_key": True}
    with fails("pk_audit_events", "UNIQUE constraint failed: audit_events.id"):
        recipe.run(INSERT, [{"id": 1, "event_key": "other", "payload": None}])
    with fails("uq_audit_events_event_key", "UNIQUE constraint failed: audit_events.event_key"):
        recipe.run(INSERT, [{"id": 99, "event_key": "event-1", "payload": None}])
    with fails("null value", "NOT NULL constraint failed"):
        recipe.run(INSERT, [{"id": None, "event_key": "late", "payload": None}])

    recipe.downgrade(CHECK)
    assert key_of(recipe) == NO_KEY
    assert recipe.rows(ROWS) == EVENTS
    if postgresql:
        assert indexes(recipe) == {}
        # Back to revision 2's state: the check, validated, so a rerun scans nothing.
        assert check_state(recipe) == [("ck_audit_events_id_not_null", True)]
    recipe.upgrade(CONSTRAINTS)  # the downgrade left what the upgrade needs
    assert key_of(recipe) == KEYED

    recipe.downgrade(SETUP)
    assert key_of(recipe) == NO_KEY
    if postgresql:
        assert check_state(recipe) == []
    # Nothing keeps duplicates out any more.
    recipe.run(INSERT, [{"id": 1, "event_key": "event-1", "payload": "again"}])
    assert recipe.rows(f"{ROWS}, payload") == [(1, "event-1", "again"), *EVENTS]

    # Documented loss of the setup's downgrade: the table and its rows.
    recipe.downgrade()
    assert "audit_events" not in recipe.inspect(lambda i: i.get_table_names())


# --- what PostgreSQL does while the lock is held -------------------------------------


@dataclass
class Measured:
    modes: set[str]  # lock modes on audit_events
    seq_scans: int  # sequential scans of audit_events
    messages: list[str]  # the server's NOTICE and DEBUG1 lines


async def run_measured(url: URL, *statements: str) -> list[Measured]:
    """Each statement in one open transaction (rolled back at the end), measured alone."""
    engine = create_async_engine(url, poolclass=pool.NullPool)
    messages: list[str] = []
    measured = []
    try:
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            raw.driver_connection.add_log_listener(  # type: ignore[union-attr]
                lambda _conn, message: messages.append(message.message)
            )
            scans = text(
                "SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relname = 'audit_events'"
            )
            locks = text(
                "SELECT mode FROM pg_locks WHERE pid = pg_backend_pid() AND granted "
                "AND relation = 'audit_events'::regclass"
            )
            await connection.execute(text("SET client_min_messages = debug1"))
            for statement in statements:
                before = (await connection.execute(scans)).scalar_one()
                messages.clear()
                await connection.execute(text(statement))
                await asyncio.sleep(0.05)  # let the statement's notices arrive
                measured.append(
                    Measured(
                        modes={m for (m,) in await connection.execute(locks)},
                        seq_scans=(await connection.execute(scans)).scalar_one() - before,
                        messages=list(messages),
                    )
                )
            await connection.rollback()
    finally:
        await engine.dispose()
    return measured


def test_plain_add_primary_key_scans_and_builds_under_access_exclusive(
    postgresql_recipe: Recipe,
) -> None:
    """What the recipe avoids: ADD PRIMARY KEY and ADD UNIQUE hold ACCESS EXCLUSIVE while
    they read the whole table, check for NULLs and build their index."""
    at_setup(postgresql_recipe)

    primary_key, unique = asyncio.run(
        run_measured(
            postgresql_recipe.url,
            "ALTER TABLE audit_events ADD CONSTRAINT pk_audit_events PRIMARY KEY (id)",
            "ALTER TABLE audit_events ADD CONSTRAINT uq_audit_events_event_key UNIQUE (event_key)",
        )
    )

    assert "AccessExclusiveLock" in primary_key.modes
    assert primary_key.seq_scans == 2  # the NULL check and the index build
    assert 'verifying table "audit_events"' in primary_key.messages
    assert 'building index "pk_audit_events" on table "audit_events" serially' in (
        primary_key.messages
    )
    assert "AccessExclusiveLock" in unique.modes
    assert unique.seq_scans == 1
    assert any(m.startswith('building index "uq_audit_events_event_key"') for m in unique.messages)


def test_using_index_attaches_without_scan_or_build(postgresql_recipe: Recipe) -> None:
    """With the indexes built concurrently and the CHECK validated, the same constraints
    take ACCESS EXCLUSIVE for a catalog change: no scan, no build, the index renamed."""
    at_setup(postgresql_recipe)
    postgresql_recipe.upgrade(CHECK)
    source = (EXAMPLES / RECIPES["primary_key"][2]).read_text()
    statements = [
        f"CREATE UNIQUE INDEX {name} ON audit_events ({column})"
        for name, column in recipe_indexes(source).items()
    ]
    postgresql_recipe.run(statements[0])
    postgresql_recipe.run(statements[1])

    primary_key, unique = asyncio.run(
        run_measured(postgresql_recipe.url, *sql_executed_in_upgrade(source))
    )

    assert primary_key.modes == unique.modes == {"AccessExclusiveLock"}
    assert primary_key.seq_scans == unique.seq_scans == 0
    for measured in (primary_key, unique):
        assert not any(
            m.startswith(("building index", "verifying table")) for m in measured.messages
        )
    assert PROOF in " ".join(primary_key.messages)
    assert (
        'ALTER TABLE / ADD CONSTRAINT USING INDEX will rename index "ix_audit_events_id_unique" '
        'to "pk_audit_events"' in primary_key.messages
    )
    assert (
        "ALTER TABLE / ADD CONSTRAINT USING INDEX will rename index "
        '"ix_audit_events_event_key_unique" to "uq_audit_events_event_key"' in unique.messages
    )


def recipe_indexes(source: str) -> dict[str, str]:
    """The recipe's INDEXES constant: index name -> column."""
    match = re.search(r"^INDEXES = (\{.*?\})$", source, re.M | re.S)
    assert match
    return ast.literal_eval(match[1])  # type: ignore[no-any-return]


def sql_executed_in_upgrade(source: str) -> list[str]:
    """The ALTER TABLE ... USING INDEX statements of the recipe's upgrade, as it joins them."""
    found = re.findall(r'op\.execute\(\n\s+"(ALTER TABLE [^"]+)"\n\s+"([^"]+)"\n\s+\)', source)
    assert len(found) == 2, found
    return [a + b for a, b in found]


def test_recipe_attaches_the_indexes_it_built(postgresql_recipe: Recipe) -> None:
    """The revision as alembic runs it: two builds, then the attach with no scan and no build."""
    at_setup(postgresql_recipe)
    postgresql_recipe.upgrade(CHECK)

    messages = postgresql_recipe.with_server_messages("upgrade", CONSTRAINTS)

    builds = [i for i, m in enumerate(messages) if m.startswith("building index")]
    # Two builds, the concurrent ones; nothing is built or scanned for NULLs after them.
    assert [messages[i].split('"')[1] for i in builds] == list(BUILT), messages
    assert not any(m.startswith("verifying table") for m in messages), messages
    after = messages[builds[-1] + 1 :]
    assert any(PROOF in m for m in after), after
    assert [m.split('"')[1::2] for m in after if "will rename index" in m] == [
        list(pair) for pair in BUILT.items()
    ], after


# --- failures, and the rerun that finishes the job -----------------------------------


def docstring_query(relative: str, starting: str) -> str:
    """A query the recipe's docstring gives, between double backquotes."""
    docstring = ast.get_docstring(ast.parse((EXAMPLES / relative).read_text())) or ""
    match = re.search(rf"``({re.escape(starting)}.*?)``", " ".join(docstring.split()))
    assert match, f"{relative}: no query starting {starting!r}"
    return match[1]


def test_a_null_id_fails_validate_and_the_rerun_keeps_the_check(
    postgresql_recipe: Recipe,
) -> None:
    recipe = at_setup(postgresql_recipe, [*EVENTS, (None, "no-id", "legacy row")])

    with fails("ck_audit_events_id_not_null"):
        recipe.upgrade(CHECK)
    assert recipe.current() == SETUP
    # The ADD committed before the VALIDATE: new NULLs are refused already.
    assert check_state(recipe) == [("ck_audit_events_id_not_null", False)]
    find = docstring_query(RECIPES["primary_key"][1], "SELECT ctid, * FROM audit_events")
    assert [row[1:] for row in recipe.rows(find)] == [(None, "no-id", "legacy row")]

    recipe.run("UPDATE audit_events SET id = 7 WHERE id IS NULL")
    recipe.upgrade(CHECK)  # the check exists: only the VALIDATE runs again
    assert check_state(recipe) == [("ck_audit_events_id_not_null", True)]
    recipe.upgrade(CONSTRAINTS)
    assert key_of(recipe) == KEYED
    assert recipe.rows(ROWS) == [*EVENTS, (7, "no-id", "legacy row")]


def test_a_duplicate_fails_the_build_and_the_rerun_replaces_the_invalid_index(
    postgresql_recipe: Recipe,
) -> None:
    recipe = at_setup(postgresql_recipe, [*EVENTS, (7, "event-2", "sent twice")])
    recipe.upgrade(CHECK)

    with fails("could not create unique index"):
        recipe.upgrade(CONSTRAINTS)
    assert recipe.current() == CHECK
    # The id index was built; the event_key build failed and left its index INVALID.
    assert indexes(recipe) == {
        "ix_audit_events_id_unique": True,
        "ix_audit_events_event_key_unique": False,
    }
    (id_index,) = recipe.rows("SELECT 'ix_audit_events_id_unique'::regclass::oid")
    find = docstring_query(RECIPES["primary_key"][2], "SELECT event_key, count(*)")
    assert recipe.rows(find) == [("event-2", 2)]

    recipe.run("DELETE FROM audit_events WHERE id = 7")
    recipe.upgrade(CONSTRAINTS)
    assert key_of(recipe) == KEYED
    assert indexes(recipe) == {"pk_audit_events": True, "uq_audit_events_event_key": True}
    # The valid index was kept, not built again: the primary key is that very index.
    assert recipe.rows("SELECT 'pk_audit_events'::regclass::oid") == [id_index]
    assert recipe.rows(ROWS) == EVENTS


def test_a_reader_times_out_the_attach_and_the_rerun_keeps_the_indexes(
    postgresql_recipe: Recipe, monkeypatch: pytest.MonkeyPatch
) -> None:
    """USING INDEX needs ACCESS EXCLUSIVE: behind a running query it waits for lock_timeout.
    The builds committed before it, so the retry only attaches them."""
    recipe = at_setup(postgresql_recipe)
    recipe.upgrade(CHECK)
    monkeypatch.setenv("MIGRATION_LOCK_TIMEOUT", "300ms")

    with table_locked(recipe.url, "audit_events"), fails("lock timeout"):
        recipe.upgrade(CONSTRAINTS)
    assert recipe.current() == CHECK
    assert indexes(recipe) == dict.fromkeys(BUILT, True)
    assert check_state(recipe) == [("ck_audit_events_id_not_null", True)]
    oids = recipe.rows(
        "SELECT 'ix_audit_events_id_unique'::regclass::oid, "
        "'ix_audit_events_event_key_unique'::regclass::oid"
    )

    recipe.upgrade(CONSTRAINTS)
    assert key_of(recipe) == KEYED
    assert (
        recipe.rows(
            "SELECT 'pk_audit_events'::regclass::oid, 'uq_audit_events_event_key'::regclass::oid"
        )
        == oids
    )


def test_sqlite_batch_copy_refuses_a_duplicate_and_changes_nothing(
    sqlite_url: URL, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recipe = at_setup(
        prepare(tmp_path, sqlite_url, monkeypatch), [*EVENTS, (7, "event-2", "sent twice")]
    )
    recipe.upgrade(CHECK)

    with fails("UNIQUE constraint failed"):
        recipe.upgrade(CONSTRAINTS)
    assert recipe.current() == CHECK
    assert key_of(recipe) == NO_KEY
    assert recipe.rows("SELECT name FROM sqlite_master WHERE name LIKE '_alembic_tmp%'") == []
    assert len(recipe.rows(ROWS)) == len(EVENTS) + 1
