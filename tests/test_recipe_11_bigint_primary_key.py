"""Recipe 11: orders.id and order_lines.order_id from integer to bigint, without a long lock.

Up and down through every revision with data on PostgreSQL; the triggers copying
writes made during the backfill; the swap giving up on lock_timeout and changing
nothing; the sequence passing 2147483647; the downgrade refusing keys past integer;
SQLite, where there is nothing to do. The slow test runs the whole recipe over
1,000,000 orders with a live writer and measures its longest wait.
"""

from __future__ import annotations

import asyncio
import io
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from cookbook import Recipe, fails, prepare
from postgres import execute_autocommit
from project import RECIPES, example_revision, table_locked
from sqlalchemy import Connection, event, pool, text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

FILES = RECIPES["bigint_key"]
SETUP, ADD, BACKFILL, INDEX, SWAP, VALIDATE, DROP = (example_revision(f) for f in FILES)
INTEGER_MAX = 2147483647

# What the application sees; it never names a new or an old column.
ORDERS = "SELECT id, total_cents FROM orders ORDER BY id"
LINES = "SELECT id, order_id, quantity FROM order_lines ORDER BY id"
COLUMN_TYPES = (
    "SELECT table_name, column_name, data_type, is_nullable, column_default "
    "FROM information_schema.columns WHERE table_name IN ('orders', 'order_lines') "
    "AND column_name IN ('id', 'id_new', 'id_old', 'order_id', 'order_id_new', 'order_id_old') "
    "ORDER BY table_name, column_name"
)
CONSTRAINTS = (
    "SELECT conrelid::regclass::text, conname, contype::text, convalidated, "
    "pg_get_constraintdef(oid) FROM pg_constraint "
    "WHERE conrelid IN ('orders'::regclass, 'order_lines'::regclass) AND contype <> 'n' "
    "ORDER BY 1, 2"
)
INDEXES = (
    "SELECT indexrelid::regclass::text, indisvalid, pg_get_indexdef(indexrelid) FROM pg_index "
    "WHERE indrelid IN ('orders'::regclass, 'order_lines'::regclass) ORDER BY 1"
)
SEQUENCE = (
    "SELECT s.seqtypid::regtype::text, s.seqmax, d.refobjid::regclass::text, a.attname "
    "FROM pg_sequence s JOIN pg_depend d ON d.objid = s.seqrelid AND d.deptype = 'a' "
    "JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid "
    "WHERE s.seqrelid = 'orders_id_seq'::regclass"
)
TRIGGERS = (
    "SELECT tgname FROM pg_trigger WHERE tgrelid IN ('orders'::regclass, 'order_lines'::regclass) "
    "AND NOT tgisinternal ORDER BY 1"
)
FK_FROM_LINES = (
    "fk_order_lines_order_id_orders",
    "f",
    "FOREIGN KEY (order_id) REFERENCES orders(id)",
)
NEW_ORDER = "INSERT INTO orders (total_cents) VALUES (:total)"
NEW_LINE = "INSERT INTO order_lines (order_id, quantity) VALUES (:order_id, :quantity)"
SERIAL = "nextval('orders_id_seq'::regclass)"


def seed(recipe: Recipe, orders: int = 12) -> None:
    """Orders 1..n, two lines each for all but the last two."""
    recipe.run(
        "INSERT INTO orders (total_cents) SELECT g * 100 FROM generate_series(1, :n) AS g",
        [{"n": orders}],
    )
    recipe.run(
        "INSERT INTO order_lines (order_id, quantity) "
        "SELECT o, q FROM generate_series(1, :n) AS o, generate_series(1, 2) AS q ORDER BY o, q",
        [{"n": orders - 2}],
    )


def types(recipe: Recipe) -> dict[str, tuple[str, str, str | None]]:
    return {
        f"{t}.{c}": (kind, null, default) for t, c, kind, null, default in recipe.rows(COLUMN_TYPES)
    }


def constraints(recipe: Recipe) -> dict[str, tuple[str, bool, str]]:
    return {
        name: (kind, valid, definition)
        for _, name, kind, valid, definition in recipe.rows(CONSTRAINTS)
    }


def indexes(recipe: Recipe) -> dict[str, tuple[bool, str]]:
    return {
        name: (valid, definition.split(" USING ")[1])
        for name, valid, definition in recipe.rows(INDEXES)
    }


def copies_match(recipe: Recipe) -> bool:
    """Every bigint copy equals its integer original (revisions 2 to 4)."""
    return recipe.rows(
        "SELECT (SELECT count(*) FROM orders WHERE id_new IS DISTINCT FROM id) "
        "+ (SELECT count(*) FROM order_lines WHERE order_id_new IS DISTINCT FROM order_id)"
    ) == [(0,)]


def assert_integer_schema(recipe: Recipe) -> None:
    """Revision 1's tables, with the keys as INTEGER, the key and the foreign key in place."""
    assert types(recipe) == {
        "order_lines.id": ("integer", "NO", "nextval('order_lines_id_seq'::regclass)"),
        "order_lines.order_id": ("integer", "NO", None),
        "orders.id": ("integer", "NO", SERIAL),
    }
    assert constraints(recipe) == {
        "fk_order_lines_order_id_orders": (*FK_FROM_LINES[1:2], True, FK_FROM_LINES[2]),
        "pk_order_lines": ("p", True, "PRIMARY KEY (id)"),
        "pk_orders": ("p", True, "PRIMARY KEY (id)"),
    }
    assert recipe.rows(SEQUENCE) == [("integer", INTEGER_MAX, "orders", "id")]


def rolled_back(url: URL, statement: str, query: str) -> list[tuple[Any, ...]]:
    """Run ``statement``, then return ``query``'s rows, in a transaction rolled back."""

    async def run() -> list[tuple[Any, ...]]:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        try:
            async with engine.connect() as connection:
                await connection.exec_driver_sql(statement)
                rows = [tuple(r) for r in (await connection.exec_driver_sql(query)).all()]
                await connection.rollback()
                return rows
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_bigint_key_up_and_down_with_data(postgresql_recipe: Recipe) -> None:
    recipe = postgresql_recipe
    recipe.install(*FILES)
    recipe.upgrade(SETUP)
    seed(recipe)
    orders, lines = recipe.rows(ORDERS), recipe.rows(LINES)
    assert len(orders) == 12 and len(lines) == 20
    assert_integer_schema(recipe)

    recipe.upgrade(ADD)
    assert recipe.rows("SELECT count(*) FROM orders WHERE id_new IS NULL") == [(12,)]
    assert recipe.rows(TRIGGERS) == [("order_lines_order_id_new_sync",), ("orders_id_new_sync",)]

    recipe.upgrade(BACKFILL)  # batches of 2: six of orders, ten of lines
    assert copies_match(recipe)
    assert {k: v[:2] for k, v in constraints(recipe).items() if k.startswith("ck_")} == {
        "ck_order_lines_order_id_new_not_null": ("c", False),
        "ck_orders_id_new_not_null": ("c", False),
    }

    recipe.upgrade(INDEX)
    assert indexes(recipe)["uq_orders_id_new"] == (True, "btree (id_new)")
    assert indexes(recipe)["ix_order_lines_order_id_new"] == (True, "btree (order_id_new)")
    assert types(recipe)["orders.id_new"] == ("bigint", "NO", None)
    assert types(recipe)["order_lines.order_id_new"] == ("bigint", "NO", None)
    assert not [k for k in constraints(recipe) if k.startswith("ck_")]

    recipe.upgrade(SWAP)
    assert types(recipe) == {
        "order_lines.id": ("integer", "NO", "nextval('order_lines_id_seq'::regclass)"),
        "order_lines.order_id": ("bigint", "NO", None),
        "order_lines.order_id_old": ("integer", "YES", None),
        "orders.id": ("bigint", "NO", SERIAL),
        "orders.id_old": ("integer", "YES", None),
    }
    assert constraints(recipe) == {
        "fk_order_lines_order_id_orders": ("f", False, f"{FK_FROM_LINES[2]} NOT VALID"),
        "pk_order_lines": ("p", True, "PRIMARY KEY (id)"),
        "pk_orders": ("p", True, "PRIMARY KEY (id)"),
    }
    assert indexes(recipe) == {
        "ix_order_lines_order_id": (True, "btree (order_id)"),
        "ix_order_lines_order_id_old": (True, "btree (order_id_old)"),
        "pk_order_lines": (True, "btree (id)"),
        "pk_orders": (True, "btree (id)"),  # revision 4's unique index, renamed
    }
    assert recipe.rows(SEQUENCE) == [("bigint", 2**63 - 1, "orders", "id")]
    assert recipe.rows(TRIGGERS) == []
    assert recipe.rows(ORDERS) == orders and recipe.rows(LINES) == lines
    # The application's insert: the sequence goes on; new rows leave the old columns NULL.
    recipe.run(NEW_ORDER, [{"total": 1300}])
    recipe.run(NEW_LINE, [{"order_id": 13, "quantity": 1}])
    orders.append((13, 1300))
    lines.append((21, 13, 1))
    assert recipe.rows("SELECT id, id_old FROM orders WHERE id > 11 ORDER BY id") == [
        (12, 12),
        (13, None),
    ]
    with fails("fk_order_lines_order_id_orders"):  # NOT VALID still checks new rows
        recipe.run(NEW_LINE, [{"order_id": 99, "quantity": 1}])

    recipe.upgrade(VALIDATE)
    assert constraints(recipe)["fk_order_lines_order_id_orders"][1] is True

    # Without revision 5's OWNED BY, dropping id_old fails: the new default needs the
    # sequence that id_old still owns; CASCADE would take the sequence and the default.
    recipe.run("ALTER SEQUENCE orders_id_seq OWNED BY orders.id_old")
    with fails("cannot drop column id_old of table orders because other objects depend on it"):
        recipe.upgrade(DROP)
    assert recipe.current() == VALIDATE
    assert rolled_back(
        recipe.url,
        "ALTER TABLE orders DROP COLUMN id_old CASCADE",
        "SELECT to_regclass('orders_id_seq'), column_default FROM information_schema.columns "
        "WHERE table_name = 'orders' AND column_name = 'id'",
    ) == [(None, None)]
    recipe.run("ALTER SEQUENCE orders_id_seq OWNED BY orders.id")

    recipe.upgrade(DROP)
    assert set(types(recipe)) == {"order_lines.id", "order_lines.order_id", "orders.id"}
    assert recipe.rows(SEQUENCE) == [("bigint", 2**63 - 1, "orders", "id")]  # survived
    recipe.run(NEW_ORDER, [{"total": 1400}])
    orders.append((14, 1400))
    assert recipe.rows(ORDERS) == orders and recipe.rows(LINES) == lines

    # Down again, one revision at a time.
    recipe.downgrade(VALIDATE)
    assert recipe.rows("SELECT count(*) FROM orders WHERE id_old IS DISTINCT FROM id") == [(0,)]
    assert recipe.rows(
        "SELECT count(*) FROM order_lines WHERE order_id_old IS DISTINCT FROM order_id"
    ) == [(0,)]
    assert indexes(recipe)["ix_order_lines_order_id_old"] == (True, "btree (order_id_old)")
    recipe.downgrade(SWAP)
    recipe.run(NEW_ORDER, [{"total": 1500}])  # lands after the drop's refill: id_old NULL
    orders.append((15, 1500))
    assert recipe.rows("SELECT id_old FROM orders WHERE id = 15") == [(None,)]

    messages = recipe.with_server_messages("downgrade", INDEX)
    # Under the lock, SET NOT NULL scanned nothing: the validated checks proved it.
    for column in ("orders.id", "order_lines.order_id"):
        proof = f'existing constraints on column "{column}" are sufficient to prove'
        assert any(proof in m for m in messages), messages
    assert types(recipe)["orders.id"] == ("integer", "NO", SERIAL)
    assert types(recipe)["orders.id_new"] == ("bigint", "NO", None)
    assert types(recipe)["order_lines.order_id"] == ("integer", "NO", None)
    assert types(recipe)["order_lines.order_id_new"] == ("bigint", "NO", None)
    assert constraints(recipe)["fk_order_lines_order_id_orders"] == (
        "f",
        True,
        FK_FROM_LINES[2],
    )
    assert indexes(recipe) == {
        "ix_order_lines_order_id": (True, "btree (order_id)"),
        "ix_order_lines_order_id_new": (True, "btree (order_id_new)"),
        "pk_order_lines": (True, "btree (id)"),
        "pk_orders": (True, "btree (id)"),
        "uq_orders_id_new": (True, "btree (id_new)"),
    }
    assert recipe.rows(SEQUENCE) == [("integer", INTEGER_MAX, "orders", "id")]
    assert recipe.rows(TRIGGERS) == [("order_lines_order_id_new_sync",), ("orders_id_new_sync",)]
    assert not [k for k in constraints(recipe) if k.startswith("ck_")]
    assert copies_match(recipe)
    recipe.run(NEW_ORDER, [{"total": 1600}])  # the sequence goes on, the trigger copies
    orders.append((16, 1600))
    assert copies_match(recipe)
    assert recipe.rows(ORDERS) == orders and recipe.rows(LINES) == lines

    recipe.upgrade(SWAP)  # and up again from the swapped-back state
    assert types(recipe)["orders.id"] == ("bigint", "NO", SERIAL)
    recipe.downgrade(INDEX)

    recipe.downgrade(BACKFILL)
    assert types(recipe)["orders.id_new"] == ("bigint", "YES", None)
    assert "uq_orders_id_new" not in indexes(recipe)
    assert "ix_order_lines_order_id_new" not in indexes(recipe)
    assert {k: v[:2] for k, v in constraints(recipe).items() if k.startswith("ck_")} == {
        "ck_order_lines_order_id_new_not_null": ("c", False),
        "ck_orders_id_new_not_null": ("c", False),
    }
    recipe.downgrade(ADD)
    assert not [k for k in constraints(recipe) if k.startswith("ck_")]
    assert copies_match(recipe)
    recipe.downgrade(SETUP)
    assert_integer_schema(recipe)
    assert recipe.rows(TRIGGERS) == []
    assert recipe.rows(ORDERS) == orders and recipe.rows(LINES) == lines
    recipe.downgrade()
    assert recipe.rows("SELECT to_regclass('orders'), to_regclass('order_lines')") == [(None, None)]


@contextmanager
def writes_between_batches(recipe: Recipe, writes: dict[str, list[str]]) -> Iterator[None]:
    """Before the third batch of each table's backfill, run that table's ``writes``.

    They run from another session, as the application would, between two of
    revision 3's committed batches: some rows behind the batch cursor, some ahead.
    """
    seen: dict[str, int] = {}

    def before(conn: Connection, cursor: Any, statement: str, *_: Any) -> None:
        for table, statements in writes.items():
            if statement.startswith(f"UPDATE {table} SET"):
                seen[table] = seen.get(table, 0) + 1
                if seen[table] == 3:  # alembic's thread runs an event loop: write from another
                    writer = threading.Thread(
                        target=lambda s=statements: [recipe.run(x) for x in s]
                    )
                    writer.start()
                    writer.join(30)

    event.listen(Engine, "before_cursor_execute", before)
    try:
        yield
    finally:
        event.remove(Engine, "before_cursor_execute", before)
    assert seen == {table: seen.get(table, 0) for table in writes} and min(seen.values()) >= 3


def test_triggers_copy_writes_made_during_the_backfill(postgresql_recipe: Recipe) -> None:
    """Inserts, and updates of the key itself, behind and ahead of the batch cursor."""
    recipe = postgresql_recipe
    recipe.install(*FILES)
    recipe.upgrade(SETUP)
    seed(recipe)
    recipe.run("DELETE FROM order_lines WHERE order_id = 1")
    recipe.upgrade(ADD)

    with writes_between_batches(
        recipe,
        {
            "orders": [
                "UPDATE orders SET id = 100 WHERE id = 1",  # behind the cursor: batch 1 is done
                "INSERT INTO orders (total_cents) VALUES (1300)",  # ahead of it
            ],
            "order_lines": [
                "UPDATE order_lines SET order_id = 12 WHERE id = 3",  # behind the cursor
                "INSERT INTO order_lines (order_id, quantity) VALUES (13, 7)",
            ],
        },
    ):
        recipe.upgrade(BACKFILL)

    assert recipe.rows("SELECT id, id_new FROM orders WHERE id IN (100, 13) ORDER BY id") == [
        (13, 13),
        (100, 100),
    ]
    assert recipe.rows("SELECT order_id, order_id_new FROM order_lines WHERE id = 3") == [(12, 12)]
    assert copies_match(recipe)
    recipe.upgrade(INDEX)  # the VALIDATEs agree: no NULL left
    assert recipe.current() == INDEX


def test_swap_gives_up_on_lock_timeout_and_changes_nothing(
    postgresql_recipe: Recipe, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Behind a long reader the swap waits lock_timeout, then rolls back whole; a retry works."""
    recipe = postgresql_recipe
    recipe.install(*FILES)
    recipe.upgrade(SETUP)
    seed(recipe)
    recipe.upgrade(INDEX)
    before = (types(recipe), constraints(recipe), indexes(recipe), recipe.rows(SEQUENCE))
    monkeypatch.setenv("MIGRATION_LOCK_TIMEOUT", "300ms")

    for table in ("orders", "order_lines"):
        started = time.monotonic()
        with table_locked(recipe.url, table), fails("lock timeout"):
            recipe.upgrade(SWAP)
        assert time.monotonic() - started < 5
        assert recipe.current() == INDEX
        assert (
            types(recipe),
            constraints(recipe),
            indexes(recipe),
            recipe.rows(SEQUENCE),
        ) == before

    # An application transaction that locks the child first: the swap deadlocks with it.
    monkeypatch.setenv("MIGRATION_LOCK_TIMEOUT", "5s")
    with (
        deadlock_timeout(recipe, "300ms"),
        lines_then_orders(recipe) as app,
        fails("deadlock detected"),
    ):
        recipe.upgrade(SWAP)
    assert app == ["committed"]  # PostgreSQL cancelled the migration here
    assert recipe.current() == INDEX
    assert (types(recipe), constraints(recipe), indexes(recipe), recipe.rows(SEQUENCE)) == before

    recipe.upgrade(SWAP)  # the rerun
    assert types(recipe)["orders.id"] == ("bigint", "NO", SERIAL)

    # The downgrade gives up at its LOCK: what it committed before stays, harmless.
    monkeypatch.setenv("MIGRATION_LOCK_TIMEOUT", "300ms")
    with table_locked(recipe.url, "order_lines"), fails("lock timeout"):
        recipe.downgrade(INDEX)
    assert recipe.current() == SWAP
    assert recipe.rows(TRIGGERS) == [("order_lines_order_id_old_sync",), ("orders_id_old_sync",)]
    recipe.run(NEW_ORDER, [{"total": 1}])  # the trigger fills the old column
    assert recipe.rows("SELECT count(*) FROM orders WHERE id_old IS DISTINCT FROM id") == [(0,)]
    # Going forward instead, revision 7 removes those leftovers with the old columns.
    recipe.upgrade(DROP)
    assert recipe.rows(TRIGGERS) == []
    assert set(indexes(recipe)) == {"ix_order_lines_order_id", "pk_order_lines", "pk_orders"}
    recipe.run(NEW_ORDER, [{"total": 2}])
    recipe.run(NEW_LINE, [{"order_id": 1, "quantity": 1}])


@contextmanager
def deadlock_timeout(recipe: Recipe, value: str) -> Iterator[None]:
    """New sessions of the test database check for deadlocks after ``value``."""
    database = recipe.url.database
    asyncio.run(
        execute_autocommit(
            recipe.url, f"ALTER DATABASE \"{database}\" SET deadlock_timeout = '{value}'"
        )
    )
    try:
        yield
    finally:
        asyncio.run(
            execute_autocommit(recipe.url, f'ALTER DATABASE "{database}" RESET deadlock_timeout')
        )


WAITING_FOR_ORDER_LINES = (
    "SELECT count(*) FROM pg_locks WHERE relation = 'order_lines'::regclass "
    "AND mode = 'AccessExclusiveLock' AND NOT granted"
)


@contextmanager
def lines_then_orders(recipe: Recipe) -> Iterator[list[str]]:
    """An application transaction: UPDATE order_lines, then, once the swap waits, orders.

    The swap holds orders and waits for order_lines; this transaction holds
    order_lines and then waits for orders. Its own deadlock check comes late (10 s),
    so the migration's comes first. Yields what became of the transaction.
    """
    outcome: list[str] = []
    started = threading.Event()

    async def app() -> None:
        engine = create_async_engine(recipe.url, poolclass=pool.NullPool)
        try:
            async with engine.connect() as connection:
                await connection.exec_driver_sql("SET deadlock_timeout = '10s'")
                await connection.exec_driver_sql(
                    "UPDATE order_lines SET quantity = quantity + 1 WHERE id = 1"
                )
                started.set()
                deadline = time.monotonic() + 30
                while not (await connection.exec_driver_sql(WAITING_FOR_ORDER_LINES)).scalar():
                    assert time.monotonic() < deadline
                    await asyncio.sleep(0.01)
                await connection.exec_driver_sql(
                    "UPDATE orders SET total_cents = total_cents + 1 WHERE id = 1"
                )
                await connection.commit()
                outcome.append("committed")
        except Exception as exc:  # reported through ``outcome``
            outcome.append(str(exc).splitlines()[0])
        finally:
            await engine.dispose()

    thread = threading.Thread(target=lambda: asyncio.run(app()))
    thread.start()
    assert started.wait(30)
    try:
        yield outcome
    finally:
        thread.join(30)


def test_swap_refuses_what_it_does_not_move_and_keeps_the_key_options(
    postgresql_recipe: Recipe,
) -> None:
    """Views, other foreign keys, other indexes on the key: refused, named, nothing changed.

    The foreign key comes back with its ON DELETE and DEFERRABLE, both ways; the
    revisions that read the catalog render offline or refuse --sql.
    """
    recipe = postgresql_recipe
    recipe.install(*FILES)
    recipe.upgrade(SETUP)
    seed(recipe)
    recipe.run(
        "ALTER TABLE order_lines DROP CONSTRAINT fk_order_lines_order_id_orders, "
        "ADD CONSTRAINT fk_order_lines_order_id_orders FOREIGN KEY (order_id) "
        "REFERENCES orders (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED"
    )
    options = "ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED"
    # Offline: revision 4 renders (its leftover check needs the catalog, so it is skipped).
    recipe.config.output_buffer = buffer = io.StringIO()
    command.upgrade(recipe.config, f"{BACKFILL}:{INDEX}", sql=True)
    assert "CREATE UNIQUE INDEX CONCURRENTLY" in buffer.getvalue()
    recipe.upgrade(INDEX)
    with pytest.raises(RuntimeError, match="not with --sql"):
        command.upgrade(recipe.config, f"{INDEX}:{SWAP}", sql=True)

    dependents = [
        "CREATE VIEW order_ids AS SELECT id FROM orders",
        "CREATE TABLE payments (id serial PRIMARY KEY, order_id integer REFERENCES orders (id))",
        "CREATE UNIQUE INDEX uq_order_lines_order_quantity ON order_lines (order_id, quantity)",
    ]
    for statement in dependents:
        recipe.run(statement)
    before = (types(recipe), constraints(recipe), indexes(recipe), recipe.rows(SEQUENCE))
    with pytest.raises(RuntimeError, match="add its name to HANDLED") as refused:
        recipe.upgrade(SWAP)
    for name in (
        "rule _RETURN on view order_ids",
        "constraint payments_order_id_fkey on table payments",
        "index uq_order_lines_order_quantity",
    ):
        assert name in str(refused.value)
    assert recipe.current() == INDEX
    assert (types(recipe), constraints(recipe), indexes(recipe), recipe.rows(SEQUENCE)) == before

    for statement in (
        "DROP VIEW order_ids",
        "DROP TABLE payments",
        "DROP INDEX uq_order_lines_order_quantity",
    ):
        recipe.run(statement)
    recipe.upgrade(SWAP)
    assert constraints(recipe)["fk_order_lines_order_id_orders"] == (
        "f",
        False,
        f"{FK_FROM_LINES[2]} {options} NOT VALID",
    )
    recipe.run(
        "CREATE VIEW order_ids AS SELECT id FROM orders"
    )  # on the bigint id: the downgrade refuses it too
    with pytest.raises(RuntimeError, match="rule _RETURN on view order_ids"):
        recipe.downgrade(INDEX)
    assert recipe.current() == SWAP
    recipe.run("DROP VIEW order_ids")
    recipe.downgrade(INDEX)
    assert constraints(recipe)["fk_order_lines_order_id_orders"] == (
        "f",
        True,
        f"{FK_FROM_LINES[2]} {options}",
    )


def test_sequence_passes_integer_and_the_downgrade_refuses_then(postgresql_recipe: Recipe) -> None:
    """ALTER SEQUENCE ... AS bigint: nextval goes past 2147483647; going back is refused."""
    recipe = postgresql_recipe
    recipe.install(*FILES)
    recipe.upgrade(SETUP)
    seed(recipe)
    recipe.upgrade(SWAP)
    recipe.run(f"SELECT setval('orders_id_seq', {INTEGER_MAX})")
    recipe.run(NEW_ORDER, [{"total": 1}])
    recipe.run(NEW_LINE, [{"order_id": INTEGER_MAX + 1, "quantity": 1}])
    assert recipe.rows("SELECT max(id) FROM orders") == [(INTEGER_MAX + 1,)]
    assert recipe.rows(
        "SELECT data_type FROM information_schema.sequences WHERE sequence_name = 'orders_id_seq'"
    ) == [("bigint",)]
    schema = (types(recipe), constraints(recipe), indexes(recipe))

    with pytest.raises(RuntimeError, match="past integer"):
        recipe.downgrade(INDEX)
    assert recipe.current() == SWAP
    assert (types(recipe), constraints(recipe), indexes(recipe)) == schema

    recipe.upgrade(DROP)
    with pytest.raises(RuntimeError, match="past integer"):
        recipe.downgrade(VALIDATE)
    assert recipe.current() == DROP
    assert "orders.id_old" not in types(recipe)
    # No key past integer any more, but the sequence is: revision 7 still refuses.
    recipe.run("DELETE FROM order_lines WHERE order_id > :max", [{"max": INTEGER_MAX}])
    recipe.run("DELETE FROM orders WHERE id > :max", [{"max": INTEGER_MAX}])
    with pytest.raises(RuntimeError, match=f"reached {INTEGER_MAX + 1}"):
        recipe.downgrade(VALIDATE)
    assert recipe.current() == DROP


def sqlite_columns(recipe: Recipe) -> list[tuple[str, str, str, bool]]:
    return [
        (table, c["name"], str(c["type"]), c["nullable"])
        for table in ("orders", "order_lines")
        for c in recipe.inspect(lambda i, t=table: i.get_columns(t))
    ]


def test_bigint_key_does_nothing_on_sqlite(
    tmp_path: Path, sqlite_url: URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's INTEGER PRIMARY KEY is the 64-bit rowid: revisions 2 to 7 change nothing."""
    recipe = prepare(tmp_path, sqlite_url, monkeypatch)
    recipe.install(*FILES)
    recipe.upgrade(SETUP)
    recipe.run(NEW_ORDER, [{"total": 100}])
    schema = sqlite_columns(recipe)
    recipe.upgrade()
    assert sqlite_columns(recipe) == schema
    big = 2**40
    recipe.run("INSERT INTO orders (id, total_cents) VALUES (:id, 1)", [{"id": big}])
    recipe.run(NEW_ORDER, [{"total": 2}])
    recipe.run(NEW_LINE, [{"order_id": big + 1, "quantity": 1}])
    assert recipe.rows(ORDERS) == [(1, 100), (big, 1), (big + 1, 2)]
    recipe.downgrade(SETUP)
    assert recipe.rows(ORDERS) == [(1, 100), (big, 1), (big + 1, 2)]
    recipe.downgrade()


# --- A million orders, a live writer -------------------------------------------------

SCALE = 1_000_000
INSERT_ORDER = text("INSERT INTO orders (total_cents) VALUES (:total) RETURNING id")
INSERT_LINE = text("INSERT INTO order_lines (order_id, quantity) VALUES (:order_id, 1)")
TOUCH_ORDER = text("UPDATE orders SET total_cents = total_cents + 1 WHERE id = :id")


@dataclass
class LiveWriter:
    """The application: every 10 ms, an order and its line in one transaction, or an update.

    Its own thread, event loop and connection; its SQL never names a new or old column.
    """

    url: URL
    started: list[float] = field(default_factory=list)  # perf_counter at each write
    latencies: list[float] = field(default_factory=list)  # seconds
    errors: list[str] = field(default_factory=list)
    retried: list[str] = field(default_factory=list)
    inserted: list[tuple[int, int]] = field(default_factory=list)  # (id, total)
    touched: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    ready: threading.Event = field(default_factory=threading.Event)

    async def run(self) -> None:
        engine = create_async_engine(self.url, poolclass=pool.NullPool)
        rng = random.Random(11)
        try:
            async with engine.connect() as connection:
                self.ready.set()
                while not self.stop.is_set():
                    began = time.perf_counter()
                    for attempt in (1, 2):
                        try:
                            await self.write(connection, rng)
                            break
                        except DBAPIError as exc:  # counted: the test asserts on them
                            if attempt == 1 and "InvalidCachedStatement" in str(exc):
                                # The swap changed a result type: the dialect has dropped
                                # its prepared statements; the transaction is retried once.
                                self.retried.append(str(exc).splitlines()[0][:120])
                                continue
                            self.errors.append(str(exc).splitlines()[0])
                    done = time.perf_counter()
                    self.started.append(began)
                    self.latencies.append(done - began)
                    await asyncio.sleep(max(0.0, 0.010 - (done - began)))
        finally:
            await engine.dispose()

    async def write(self, connection: Any, rng: random.Random) -> None:
        if len(self.started) % 2 == 0:
            total = rng.randrange(1, 10_000)
            async with connection.begin():
                result = await connection.execute(INSERT_ORDER, {"total": total})
                new_id = result.scalar_one()
                await connection.execute(INSERT_LINE, {"order_id": new_id})
            self.inserted.append((new_id, total))
        else:
            async with connection.begin():
                await connection.execute(TOUCH_ORDER, {"id": rng.randrange(1, SCALE + 1)})
            self.touched += 1

    @contextmanager
    def running(self) -> Iterator[LiveWriter]:
        thread = threading.Thread(target=lambda: asyncio.run(self.run()), daemon=True)
        thread.start()
        assert self.ready.wait(30)
        try:
            yield self
        finally:
            self.stop.set()
            thread.join(60)

    def writes_between(self, start: float, end: float) -> int:
        return sum(1 for t in self.started if start <= t <= end)


@pytest.mark.slow
def test_writes_keep_flowing_over_a_million_orders(
    postgresql_recipe: Recipe, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole recipe under a live writer: no write waits a second, none fails."""
    recipe = postgresql_recipe
    recipe.install(*FILES, batch_size=None)  # the recipe's own BATCH_SIZE, 5000
    recipe.upgrade(SETUP)
    asyncio.run(
        execute_autocommit(
            recipe.url,
            f"INSERT INTO orders (total_cents) SELECT g % 10000 FROM generate_series(1, {SCALE}) g",
            "INSERT INTO order_lines (order_id, quantity) "
            f"SELECT g, 1 + g % 5 FROM generate_series(1, {SCALE}) g",
            "VACUUM ANALYZE orders",
            "VACUUM ANALYZE order_lines",
        )
    )
    seeded_total = recipe.rows("SELECT sum(total_cents) FROM orders")[0][0]
    monkeypatch.setenv("MIGRATION_LOCK_TIMEOUT", "1s")  # alembic -x lock_timeout=1s

    steps: list[tuple[str, float, float]] = []
    with LiveWriter(recipe.url).running() as writer:
        time.sleep(0.2)
        for name, revision in zip(
            FILES[1:], (ADD, BACKFILL, INDEX, SWAP, VALIDATE, DROP), strict=True
        ):
            began = time.perf_counter()
            recipe.upgrade(revision)
            steps.append((name, began, time.perf_counter()))
        time.sleep(0.2)

    worst = max(writer.latencies)
    durations = {name: round(end - began, 2) for name, began, end in steps}
    print(f"\n{len(writer.latencies)} writes, longest {worst * 1000:.0f} ms; steps: {durations}")
    slowest = writer.started[writer.latencies.index(worst)]
    during = [name for name, began, end in steps if began <= slowest <= end]
    print(f"longest write during {during}; retried: {writer.retried}")
    assert writer.errors == []
    # One retry: the first INSERT ... RETURNING id after the swap, whose result type changed.
    assert len(writer.retried) == 1 and "InvalidCachedStatementError" in writer.retried[0]
    assert worst < 1.0, (worst, durations)
    for name, began, end in steps:
        assert writer.writes_between(began, end) > 0, f"no write during {name}"

    # The key is bigint and its sequence too; ids go on from it.
    assert types(recipe)["orders.id"] == ("bigint", "NO", SERIAL)
    assert types(recipe)["order_lines.order_id"] == ("bigint", "NO", None)
    assert recipe.rows(SEQUENCE) == [("bigint", 2**63 - 1, "orders", "id")]
    ids = [i for i, _ in writer.inserted]
    assert ids == list(range(SCALE + 1, SCALE + 1 + len(ids)))
    recipe.run(NEW_ORDER, [{"total": 0}])
    assert recipe.rows("SELECT max(id) FROM orders") == [(SCALE + len(ids) + 1,)]
    with fails("fk_order_lines_order_id_orders"):
        recipe.run(NEW_LINE, [{"order_id": 10 * SCALE, "quantity": 1}])
    assert constraints(recipe)["fk_order_lines_order_id_orders"][1] is True

    # Every row is there, with the values the application wrote.
    count = SCALE + len(ids)
    assert recipe.rows(
        "SELECT count(*), sum(id), sum(total_cents) FROM orders WHERE id <= :last".replace(
            ":last", str(count)
        )
    ) == [
        (
            count,
            count * (count + 1) // 2,
            seeded_total + sum(t for _, t in writer.inserted) + writer.touched,
        )
    ]
    assert recipe.rows(
        "SELECT count(*), sum(l.order_id), count(o.id) FROM order_lines l "
        "LEFT JOIN orders o ON o.id = l.order_id"
    ) == [(count, SCALE * (SCALE + 1) // 2 + sum(ids), count)]
