"""Recipe 17: index a partitioned table and add a partition without blocking writes.

PostgreSQL only: SQLite has no partitioned tables.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic import command
from cookbook import Recipe, fails
from postgres import execute_autocommit
from project import (
    EXAMPLES,
    RECIPES,
    example_revision,
    table_locked,
    transaction_held,
    with_connection,
)
from sqlalchemy import Connection, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

SETUP, INDEX, ATTACH = (example_revision(f) for f in RECIPES["partitions"])
CREATE_PARENT_INDEX = "CREATE INDEX IF NOT EXISTS ix_events_kind ON ONLY events (kind)"


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


EVENTS = [
    {"id": 1, "created_at": at(2019, 3, 1, 12, 0), "kind": "signup"},
    {"id": 2, "created_at": at(2019, 11, 30, 8, 0), "kind": "login"},
    {"id": 3, "created_at": at(2020, 6, 15, 9, 30), "kind": "login"},
]
EVENT_2021 = {"id": 4, "created_at": at(2021, 2, 1, 10, 0), "kind": "signup"}
INSERT = "INSERT INTO events (id, created_at, kind) VALUES (:id, :created_at, :kind)"
BY_PARTITION = "SELECT tableoid::regclass::text, id FROM events ORDER BY id"
SEEDED = [("events_2019", 1), ("events_2019", 2), ("events_2020", 3)]

RELATION_LOCKS = text(
    "SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
    "WHERE l.pid = pg_backend_pid() AND c.relkind IN ('r', 'p') AND c.relname LIKE 'events%'"
)
PARENT_INDEX_VALID = "SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_events_kind'::regclass"
ATTACHED_INDEXES = (
    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
    "WHERE i.inhparent = 'ix_events_kind'::regclass ORDER BY 1"
)


def events_recipe(recipe: Recipe) -> Recipe:
    recipe.install(*RECIPES["partitions"])
    recipe.upgrade(SETUP)
    recipe.run(INSERT, EVENTS)
    return recipe


def locks_of(url: URL, *statements: str) -> set[tuple[str, str]]:
    """The table locks ``statements`` hold at the end of their transaction (rolled back)."""

    def run(conn: Connection) -> set[tuple[str, str]]:
        for statement in statements:
            conn.execute(text(statement))
        held = {(name, mode) for name, mode in conn.execute(RELATION_LOCKS)}
        conn.rollback()
        return held

    return with_connection(url, run)


def autocommit(url: URL, sql: str) -> None:
    """Run ``sql`` outside a transaction block, as CONCURRENTLY needs."""
    asyncio.run(execute_autocommit(url, sql))


def in_transaction(url: URL, fn: Callable[[Connection], Any]) -> Any:
    """Run ``fn`` in a transaction that is rolled back afterwards."""

    def run(conn: Connection) -> Any:
        try:
            return fn(conn)
        finally:
            conn.rollback()

    return with_connection(url, run)


def test_partitions_up_and_down_keep_every_row(postgresql_recipe: Recipe) -> None:
    recipe = events_recipe(postgresql_recipe)

    recipe.upgrade(INDEX)
    assert recipe.rows(PARENT_INDEX_VALID) == [(True,)]
    assert recipe.rows(ATTACHED_INDEXES) == [("ix_events_2019_kind",), ("ix_events_2020_kind",)]
    assert recipe.rows(BY_PARTITION) == SEEDED

    recipe.upgrade(ATTACH)
    recipe.run(INSERT, [EVENT_2021])
    assert recipe.rows(BY_PARTITION) == [*SEEDED, ("events_2021", 4)]
    # ATTACH adopted the table's own index: no second index on kind was built.
    assert recipe.rows(ATTACHED_INDEXES)[-1] == ("ix_events_2021_kind",)
    assert recipe.rows("SELECT indexname FROM pg_indexes WHERE tablename = 'events_2021'") == [
        ("pk_events_2021",),
        ("ix_events_2021_kind",),
    ]
    assert recipe.rows("SELECT conname FROM pg_constraint WHERE conname LIKE 'ck_events%'") == []
    with pytest.raises(DBAPIError, match="no partition of relation"):
        recipe.run(INSERT, [{"id": 5, "created_at": at(2022, 1, 1, 0, 0), "kind": "x"}])

    recipe.downgrade(INDEX)  # the 2021 row goes with its partition
    assert recipe.rows(BY_PARTITION) == SEEDED
    assert recipe.rows("SELECT to_regclass('events_2021')") == [(None,)]

    # The downgrade's DROP INDEX: ACCESS EXCLUSIVE on events and on each partition.
    assert locks_of(recipe.url, "DROP INDEX ix_events_kind") == {
        ("events", "AccessExclusiveLock"),
        ("events_2019", "AccessExclusiveLock"),
        ("events_2020", "AccessExclusiveLock"),
    }
    recipe.downgrade(SETUP)
    assert recipe.rows("SELECT to_regclass('ix_events_kind')") == [(None,)]
    assert recipe.rows("SELECT count(*) FROM pg_indexes WHERE indexname LIKE 'ix_events%'") == [
        (0,)
    ]
    assert recipe.rows(BY_PARTITION) == SEEDED

    recipe.downgrade()
    assert recipe.rows("SELECT to_regclass('events')") == [(None,)]


def test_index_locks_one_table_at_a_time_where_a_plain_build_locks_all(
    postgresql_recipe: Recipe,
) -> None:
    """Plain CREATE INDEX: SHARE on the parent and every partition. ON ONLY: the parent only,
    an invalid index that becomes valid with the last partition's attach."""
    recipe = events_recipe(postgresql_recipe)
    url = recipe.url

    assert locks_of(url, "CREATE INDEX ix_plain ON events (kind)") == {
        ("events", "ShareLock"),
        ("events_2019", "ShareLock"),
        ("events_2020", "ShareLock"),
    }
    assert locks_of(url, "CREATE INDEX ix_events_kind ON ONLY events (kind)") == {
        ("events", "ShareLock")
    }
    with fails('cannot create index on partitioned table "events" concurrently'):
        autocommit(url, "CREATE INDEX CONCURRENTLY ix_plain ON events (kind)")

    def attach_one_by_one(conn: Connection) -> list[bool]:
        valid = []
        conn.execute(text("CREATE INDEX ix_events_kind ON ONLY events (kind)"))
        for partition in ("events_2019", "events_2020"):
            valid.append(conn.execute(text(PARENT_INDEX_VALID)).scalar())
            conn.execute(text(f"CREATE INDEX ix_{partition}_kind ON {partition} (kind)"))
            conn.execute(text(f"ALTER INDEX ix_events_kind ATTACH PARTITION ix_{partition}_kind"))
        valid.append(conn.execute(text(PARENT_INDEX_VALID)).scalar())
        return valid

    assert in_transaction(url, attach_one_by_one) == [False, False, True]


def test_index_rebuilds_an_invalid_leftover(postgresql_recipe: Recipe) -> None:
    """A failed concurrent build left ix_events_2020_kind INVALID (and UNIQUE): the
    upgrade drops it, builds it again and attaches it."""
    recipe = events_recipe(postgresql_recipe)
    recipe.run(INSERT, [{"id": 9, "created_at": at(2020, 7, 1, 0, 0), "kind": "login"}])
    with fails("could not create unique index"):
        autocommit(
            recipe.url, "CREATE UNIQUE INDEX CONCURRENTLY ix_events_2020_kind ON events_2020 (kind)"
        )
    recipe.run("DELETE FROM events WHERE id = 9")
    invalid = "SELECT indisvalid, indisunique FROM pg_index WHERE indexrelid = '{}'::regclass"
    assert recipe.rows(invalid.format("ix_events_2020_kind")) == [(False, True)]

    recipe.upgrade(INDEX)

    assert recipe.rows(invalid.format("ix_events_2020_kind")) == [(True, False)]
    assert recipe.rows(PARENT_INDEX_VALID) == [(True,)]
    assert recipe.rows(BY_PARTITION) == SEEDED

    # A rerun after everything is built and attached: each step finds its work done.
    indexes = "SELECT indexrelid FROM pg_index WHERE indexrelid::regclass::text LIKE 'ix_events%'"
    built = recipe.rows(indexes)
    command.stamp(recipe.config, SETUP)
    recipe.upgrade(INDEX)
    assert recipe.rows(indexes) == built  # the same indexes, none built again
    assert recipe.rows(ATTACHED_INDEXES) == [("ix_events_2019_kind",), ("ix_events_2020_kind",)]
    assert recipe.rows(PARENT_INDEX_VALID) == [(True,)]


def test_on_only_waits_for_open_writes_made_through_the_parent(
    postgresql_recipe: Recipe, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ON ONLY is catalog only, but its SHARE lock on events waits for an open write
    transaction made through events; lock_timeout ends the wait and nothing is left.
    A write straight into a partition holds only ACCESS SHARE on events: no wait."""
    recipe = events_recipe(postgresql_recipe)
    direct_write = "INSERT INTO events_2019 (id, created_at, kind) VALUES (6, '2019-08-08', 'x')"
    assert locks_of(recipe.url, direct_write) == {
        ("events", "AccessShareLock"),
        ("events_2019", "RowExclusiveLock"),
    }

    def create_on_only(conn: Connection) -> None:
        conn.execute(text("SET LOCAL lock_timeout = '300ms'"))
        conn.execute(text(CREATE_PARENT_INDEX))

    with transaction_held(recipe.url, direct_write):
        in_transaction(recipe.url, create_on_only)  # does not wait (rolled back)

    monkeypatch.setenv("MIGRATION_LOCK_TIMEOUT", "300ms")
    held_write = "INSERT INTO events (id, created_at, kind) VALUES (7, '2020-08-08', 'x')"
    with transaction_held(recipe.url, held_write), fails("lock timeout"):
        recipe.upgrade(INDEX)
    assert recipe.rows("SELECT to_regclass('ix_events_kind')") == [(None,)]
    recipe.upgrade(INDEX)
    assert recipe.rows(PARENT_INDEX_VALID) == [(True,)]


def test_attach_takes_share_update_exclusive_where_partition_of_takes_access_exclusive(
    postgresql_recipe: Recipe,
) -> None:
    recipe = events_recipe(postgresql_recipe)
    url = recipe.url
    partition_of = (
        "CREATE TABLE events_2021 PARTITION OF events "
        "FOR VALUES FROM ('2021-01-01 00:00+00') TO ('2022-01-01 00:00+00')"
    )
    assert ("events", "AccessExclusiveLock") in locks_of(url, partition_of)

    recipe.upgrade(INDEX)
    # The upgrade runs while another session has written to events and not committed.
    with transaction_held(
        url, "INSERT INTO events (id, created_at, kind) VALUES (7, '2020-08-08', 'x')"
    ):
        recipe.upgrade(ATTACH)
    assert recipe.current() == ATTACH
    assert recipe.rows(BY_PARTITION) == SEEDED


def revision_constants(name: str) -> dict[str, Any]:
    """A recipe file's module-level names, for its SQL constants."""
    namespace: dict[str, Any] = {}
    exec(compile((EXAMPLES / name).read_text(), name, "exec"), namespace)
    return namespace


def attach_scans(url: URL, keep_check: bool) -> tuple[set[tuple[str, str]], int]:
    """The recipe's table with a row of 2021 in it, attached: (locks, its seq scans)."""
    namespace = revision_constants(RECIPES["partitions"][2])
    scans = text("SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relname = 'events_2021'")

    def run(conn: Connection) -> tuple[set[tuple[str, str]], int]:
        conn.execute(text(namespace["CREATE_PARTITION_TABLE"]))
        conn.execute(text(INSERT.replace("events", "events_2021")), EVENT_2021)
        if not keep_check:
            conn.execute(text("ALTER TABLE events_2021 DROP CONSTRAINT ck_events_2021_bounds"))
        before = conn.execute(scans).scalar()
        conn.execute(text(namespace["ATTACH"]))
        held = {(name, mode) for name, mode in conn.execute(RELATION_LOCKS)}
        return held, conn.execute(scans).scalar() - before

    return in_transaction(url, run)


def test_the_check_lets_attach_skip_its_scan(postgresql_recipe: Recipe) -> None:
    recipe = events_recipe(postgresql_recipe)
    locks, scans = attach_scans(recipe.url, keep_check=True)
    assert scans == 0
    assert {mode for table, mode in locks if table == "events"} == {"ShareUpdateExclusiveLock"}
    assert ("events_2021", "AccessExclusiveLock") in locks
    assert attach_scans(recipe.url, keep_check=False)[1] == 1  # without it: a scan


def test_a_default_partition_is_scanned_under_lock_and_stops_a_concurrent_detach(
    postgresql_recipe: Recipe,
) -> None:
    recipe = events_recipe(postgresql_recipe)
    recipe.upgrade(ATTACH)
    recipe.run("CREATE TABLE events_default PARTITION OF events DEFAULT")
    recipe.run(INSERT, [{"id": 8, "created_at": at(2030, 1, 1, 0, 0), "kind": "late"}])

    def attach_2022(conn: Connection) -> tuple[set[tuple[str, str]], int]:
        scans = "SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relname = 'events_default'"
        conn.execute(
            text(
                "CREATE TABLE events_2022 (LIKE events, CHECK (created_at >= '2022-01-01' "
                "AND created_at < '2023-01-01'))"
            )
        )
        before = conn.execute(text(scans)).scalar()
        conn.execute(
            text(
                "ALTER TABLE events ATTACH PARTITION events_2022 "
                "FOR VALUES FROM ('2022-01-01') TO ('2023-01-01')"
            )
        )
        held = {(name, mode) for name, mode in conn.execute(RELATION_LOCKS)}
        return held, conn.execute(text(scans)).scalar() - before

    locks, scans = in_transaction(recipe.url, attach_2022)
    assert ("events_default", "AccessExclusiveLock") in locks
    assert scans == 1

    with fails("cannot detach partitions concurrently when a default partition exists"):
        recipe.downgrade(INDEX)
    assert recipe.rows("SELECT to_regclass('events_2021')::text") == [("events_2021",)]


def test_what_partitioned_tables_refuse(postgresql_recipe: Recipe) -> None:
    recipe = events_recipe(postgresql_recipe)
    with fails("unique constraint on partitioned table must include all partitioning columns"):
        recipe.run("CREATE UNIQUE INDEX uq_events_id ON events (id)")
    recipe.upgrade(ATTACH)

    def detach_in_a_transaction(conn: Connection) -> None:
        conn.execute(text("ALTER TABLE events DETACH PARTITION events_2021 CONCURRENTLY"))

    with fails("DETACH CONCURRENTLY cannot run inside a transaction block"):
        in_transaction(recipe.url, detach_in_a_transaction)
    with fails('cannot drop partitioned index "ix_events_kind" concurrently'):
        autocommit(recipe.url, "DROP INDEX CONCURRENTLY ix_events_kind")


def test_a_detach_cut_short_is_finalized_by_the_rerun(
    postgresql_recipe: Recipe, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A reader of events makes the concurrent detach wait; lock_timeout stops it half way
    (inhdetachpending); the next downgrade finishes it with FINALIZE and drops the table."""
    recipe = events_recipe(postgresql_recipe)
    recipe.upgrade(ATTACH)
    recipe.run(INSERT, [EVENT_2021])
    monkeypatch.setenv("MIGRATION_LOCK_TIMEOUT", "300ms")
    pending = "SELECT inhdetachpending FROM pg_inherits WHERE inhrelid = to_regclass('events_2021')"

    with table_locked(recipe.url, "events"), fails("lock timeout"):
        recipe.downgrade(INDEX)
    assert recipe.rows(pending) == [(True,)]
    assert recipe.current() == ATTACH

    # FINALIZE keeps events at SHARE UPDATE EXCLUSIVE; dropping the partition while
    # still attached would take ACCESS EXCLUSIVE on events.
    finalize = "ALTER TABLE events DETACH PARTITION events_2021 FINALIZE"
    assert ("events", "ShareUpdateExclusiveLock") in locks_of(recipe.url, finalize)
    assert ("events", "AccessExclusiveLock") in locks_of(recipe.url, "DROP TABLE events_2021")
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    recipe.downgrade(INDEX)
    assert finalize in caplog.text
    assert recipe.rows("SELECT to_regclass('events_2021')") == [(None,)]
    assert recipe.rows(BY_PARTITION) == SEEDED
