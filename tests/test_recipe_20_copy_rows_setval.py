"""Recipe 20: copy rows with their ids, the id counter moved first.

Without moving PostgreSQL's sequence the application's next insert collides;
with it (SQLite: the largest legacy row copied first) an insert during the copy
or after it lands above every legacy id and no legacy row is lost. A legacy id
held with other data stops the revision; a skipped row never vanishes. The
downgrade deletes the copied rows, and with them later edits.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cookbook import Recipe, fails, prepare
from project import EXAMPLES, RECIPES, example_revision, table_locked, with_connection
from sqlalchemy import event, pool
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine

SETUP_FILE, COPY_FILE = RECIPES["setval"]
SETUP, COPY = example_revision(SETUP_FILE), example_revision(COPY_FILE)
APP_ORDERS = [("ada", 100), ("grace", 200), ("alan", 300)]  # ids 1-3, from the counter
LEGACY = [
    (4, "edsger", 40),
    (5, "barbara", 50),
    (6, "donald", 60),
    (7, "ken", 70),
    (10, "dennis", 99),
]
ALL = "SELECT id, customer, total_cents FROM orders ORDER BY id"
SEEDED = [(n, c, t) for n, (c, t) in enumerate(APP_ORDERS, start=1)]


def variant(tmp_path: Path, relative: str, old: str, new: str) -> Path:
    """A copy of a recipe file with ``old`` (which must be there) replaced."""
    text = (EXAMPLES / relative).read_text()
    assert old in text
    path = tmp_path / Path(relative).name
    path.write_text(text.replace(old, new))
    return path


def seeded(recipe: Recipe, *files: str | Path) -> Recipe:
    recipe.install(*(files or RECIPES["setval"]))
    recipe.upgrade(SETUP)
    for customer, total in APP_ORDERS:
        app_insert(recipe, customer, total)
    recipe.run(
        "INSERT INTO legacy_orders (id, customer, total_cents) VALUES (:id, :c, :t)",
        [{"id": i, "c": c, "t": t} for i, c, t in LEGACY],
    )
    return recipe


def app_insert(recipe: Recipe | URL, customer: str, total: int = 1) -> int:
    """The application's insert: no id given; the id the database chose."""
    return with_connection(
        recipe.url if isinstance(recipe, Recipe) else recipe,
        lambda conn: conn.execute(
            sa.text("INSERT INTO orders (customer, total_cents) VALUES (:c, :t) RETURNING id"),
            {"c": customer, "t": total},
        ).scalar_one(),
    )


def upgrade_with_hook(
    recipe: Recipe, before_batch_after: int, hook: Callable[[], None] | None = None
) -> None:
    """Upgrade; ``hook()`` runs just before the copy batch that starts after that legacy id.

    Without a hook, that batch fails (as on a lost connection or a deploy timeout).
    """
    engine = create_async_engine(recipe.url, poolclass=pool.NullPool)

    def before(
        conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any
    ) -> tuple[str, Any]:
        if statement.startswith("INSERT INTO orders (id") and parameters[0] == before_batch_after:
            if hook is None:
                return "SELECT * FROM the_batch_that_failed", ()
            with ThreadPoolExecutor(1) as other_session:  # its own connection, committed
                other_session.submit(hook).result()
        return statement, parameters

    event.listen(engine.sync_engine, "before_cursor_execute", before, retval=True)
    recipe.config.attributes["connection"] = engine
    try:
        recipe.upgrade(COPY)
    finally:
        del recipe.config.attributes["connection"]
        asyncio.run(engine.dispose())


def copy_with_an_app_insert_during(recipe: Recipe) -> int:
    """Upgrade; after the batch of legacy 4 and 5 has committed, the application inserts."""
    during: list[int] = []
    upgrade_with_hook(recipe, 5, lambda: during.append(app_insert(recipe, "during")))
    assert len(during) == 1
    return during[0]


def test_the_app_inserts_during_and_after_the_copy_without_collisions(recipe: Recipe) -> None:
    seeded(recipe)
    during = copy_with_an_app_insert_during(recipe)
    assert during == 11  # above every legacy id (10), though 6, 7 and 10 were not copied yet
    after = app_insert(recipe, "after")
    assert after == 12  # PostgreSQL: setval used up no id
    if recipe.dialect == "sqlite":
        assert recipe.rows("SELECT seq FROM sqlite_sequence WHERE name = 'orders'") == [(12,)]
    assert recipe.rows(ALL) == [*SEEDED, *LEGACY, (11, "during", 1), (12, "after", 1)]

    recipe.run("UPDATE orders SET total_cents = 41 WHERE id = 4")  # an edit after the copy
    recipe.downgrade(SETUP)
    assert recipe.rows(ALL) == [*SEEDED, (11, "during", 1), (12, "after", 1)]
    assert recipe.rows("SELECT id, customer, total_cents FROM legacy_orders ORDER BY id") == LEGACY
    assert app_insert(recipe, "again") == 13  # the counter is not moved back

    recipe.upgrade(COPY)  # again, on the same tables
    assert recipe.rows(ALL) == [
        *SEEDED, *LEGACY, (11, "during", 1), (12, "after", 1), (13, "again", 1)
    ]  # fmt: skip
    assert app_insert(recipe, "last") == 14


def test_sqlite_without_autoincrement_the_largest_row_first_protects_the_copy(
    tmp_path: Path, sqlite_url: URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    recipe = prepare(tmp_path, sqlite_url, monkeypatch)
    plain = variant(tmp_path, SETUP_FILE, "        sqlite_autoincrement=True,\n", "")
    seeded(recipe, plain, COPY_FILE)
    assert recipe.rows("SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'") == []
    assert copy_with_an_app_insert_during(recipe) == 11
    assert recipe.rows(ALL) == [*SEEDED, *LEGACY, (11, "during", 1)]


def test_sqlite_without_the_largest_row_first_the_copy_stops_and_loses_nothing(
    tmp_path: Path, sqlite_url: URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    recipe = prepare(tmp_path, sqlite_url, monkeypatch)
    old = "            copy_batch(bind, copy, last - 1, last)"
    mutant = variant(tmp_path, COPY_FILE, old, "            pass")
    seeded(recipe, SETUP_FILE, mutant)
    with pytest.raises(RuntimeError, match=r"orders holds legacy ids \[6\] with other data"):
        copy_with_an_app_insert_during(recipe)  # the insert took id 6: max(id) + 1
    assert recipe.rows("SELECT id, customer FROM orders WHERE id = 6") == [(6, "during")]
    assert recipe.current() == SETUP  # not applied: legacy 6 is still waiting, not dropped


def test_without_the_setval_the_next_insert_collides(
    postgresql_recipe: Recipe, tmp_path: Path
) -> None:
    mutant = variant(tmp_path, COPY_FILE, "        bind.execute(MOVE_SEQUENCE)\n", "")
    recipe = seeded(postgresql_recipe, SETUP_FILE, mutant)
    with pytest.raises(RuntimeError, match="legacy_orders got ids past orders_id_seq"):
        recipe.upgrade(COPY)  # the last check sees it; the rows are copied, though
    with fails("duplicate key value violates unique constraint"):
        app_insert(recipe, "collides with legacy 4")


def test_a_legacy_id_held_with_other_data_stops_before_the_copy(recipe: Recipe) -> None:
    seeded(recipe)
    recipe.run("INSERT INTO legacy_orders (id, customer, total_cents) VALUES (2, 'other', 1)")
    with pytest.raises(RuntimeError, match=r"orders holds legacy ids \[2\] with other data"):
        recipe.upgrade(COPY)
    assert recipe.rows(ALL) == SEEDED  # nothing copied


def test_a_rerun_copies_the_rest_and_stops_on_an_edited_copy(recipe: Recipe) -> None:
    seeded(recipe)

    with fails("the_batch_that_failed"):
        upgrade_with_hook(recipe, 5)
    assert recipe.current() == SETUP
    copied = [4, 5] + ([10] if recipe.dialect == "sqlite" else [])
    assert [r[0] for r in recipe.rows(ALL)] == [1, 2, 3, *copied]  # committed batches stay

    recipe.run("UPDATE orders SET total_cents = 41 WHERE id = 4")  # the application edits one
    with pytest.raises(RuntimeError, match=r"orders holds legacy ids \[4\] with other data"):
        recipe.upgrade(COPY)
    recipe.run("UPDATE legacy_orders SET total_cents = 41 WHERE id = 4")  # the data to keep
    recipe.upgrade(COPY)
    assert recipe.rows(ALL) == [*SEEDED, (4, "edsger", 41), *LEGACY[1:]]


@pytest.mark.parametrize(
    ("legacy_id", "message"),
    [(20, "legacy_orders got ids past orders_id_seq"), (1, "1 legacy_orders rows are not")],
)
def test_legacy_rows_added_during_the_copy_fail_it_and_a_rerun_finishes(
    postgresql_recipe: Recipe, legacy_id: int, message: str
) -> None:
    recipe = seeded(postgresql_recipe)
    recipe.run("DELETE FROM orders WHERE id = 1")  # id 1 is free in orders

    def old_release_writes_legacy() -> None:  # ahead of the batches (20) or behind them (1)
        recipe.run(f"INSERT INTO legacy_orders VALUES ({legacy_id}, 'late', 1)")

    with pytest.raises(RuntimeError, match=message):
        upgrade_with_hook(recipe, 5, old_release_writes_legacy)
    recipe.upgrade(COPY)
    assert (legacy_id, "late", 1) in recipe.rows(ALL)
    assert app_insert(recipe, "next") == (21 if legacy_id == 20 else 11)


def test_the_sequence_never_moves_back_and_uses_no_id(postgresql_recipe: Recipe) -> None:
    recipe = postgresql_recipe
    recipe.install(*RECIPES["setval"])
    recipe.upgrade(COPY)  # empty tables
    assert app_insert(recipe, "first") == 1

    recipe.downgrade(SETUP)
    recipe.run("SELECT setval('orders_id_seq', 50)")  # ahead of every id: deleted rows
    recipe.run("INSERT INTO legacy_orders VALUES (7, 'ken', 70)")
    recipe.upgrade(COPY)
    assert app_insert(recipe, "next") == 51


def test_an_insert_waiting_for_the_share_lock_draws_no_id(postgresql_recipe: Recipe) -> None:
    recipe = seeded(postgresql_recipe)
    sequence = "SELECT last_value, is_called FROM orders_id_seq"
    inserted: list[int] = []
    with table_locked(recipe.url, "orders", "SHARE"):
        app = threading.Thread(target=lambda: inserted.append(app_insert(recipe, "waits")))
        app.start()
        time.sleep(0.3)
        assert app.is_alive() and inserted == []  # the insert waits for the lock...
        assert recipe.rows(sequence) == [(3, True)]  # ...and has drawn no id yet
        assert recipe.rows("SELECT count(*) FROM orders") == [(3,)]  # reads go on
    app.join(10)
    assert inserted == [4]


def test_a_sequence_cache_is_refused_and_a_referencing_row_stops_the_downgrade(
    postgresql_recipe: Recipe,
) -> None:
    """With CACHE 20, a session's cached ids ignore setval: the revision refuses to run.
    ALTER SEQUENCE ... CACHE 1 makes the session drop its cache (PostgreSQL 18). With
    CACHE 1 it runs; its downgrade then stops on a foreign key to a copied order."""
    recipe = seeded(postgresql_recipe)
    recipe.run("ALTER SEQUENCE orders_id_seq CACHE 20")

    def migration(sql: str) -> None:  # another session, committed; never waits long
        with_connection(
            recipe.url,
            lambda conn: [conn.execute(sa.text(s)) for s in ("SET LOCAL lock_timeout = '2s'", sql)],
        )

    async def cached_ids_ignore_setval() -> list[int]:
        engine = create_async_engine(
            recipe.url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT"
        )
        nextval = sa.text("SELECT nextval('orders_id_seq')")
        try:
            async with engine.connect() as app:  # the application's session
                drawn = [(await app.execute(nextval)).scalar_one()]  # caches 4-23
                await asyncio.to_thread(migration, "SELECT setval('orders_id_seq', 11, false)")
                drawn.append((await app.execute(nextval)).scalar_one())
                await asyncio.to_thread(migration, "ALTER SEQUENCE orders_id_seq CACHE 1")
                drawn.append((await app.execute(nextval)).scalar_one())
                return drawn
        finally:
            await engine.dispose()

    # 5: a legacy id, from the cache, after setval; 11: ALTER ... CACHE 1 dropped the cache.
    assert asyncio.run(cached_ids_ignore_setval()) == [4, 5, 11]
    recipe.run("ALTER SEQUENCE orders_id_seq CACHE 20")
    with pytest.raises(RuntimeError, match="orders_id_seq has CACHE 20"):
        recipe.upgrade(COPY)
    assert recipe.rows(ALL) == SEEDED and recipe.current() == SETUP

    recipe.run("ALTER SEQUENCE orders_id_seq CACHE 1")
    recipe.upgrade(COPY)
    assert recipe.rows(ALL) == [*SEEDED, *LEGACY]
    recipe.run("CREATE TABLE order_notes (order_id integer NOT NULL REFERENCES orders)")
    recipe.run("INSERT INTO order_notes VALUES (4)")
    with fails('violates foreign key constraint "order_notes_order_id_fkey"'):
        recipe.downgrade(SETUP)
    assert recipe.rows(ALL) == [*SEEDED, *LEGACY] and recipe.current() == COPY
