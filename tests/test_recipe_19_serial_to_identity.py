"""Recipe 19: serial to identity with the counter kept, and a table rename that
renames its sequence, primary key and index too.

PostgreSQL: the next insert after each step continues the old counter (not 1,
and not an id a deleted row had); a variant without the setval fails with
"duplicate key"; GENERATED ALWAYS refuses explicit ids; a plain rename leaves
the old names, which autogenerate, op.drop_constraint and a derived sequence
name trip over. SQLite: the rename keeps AUTOINCREMENT's counter.
"""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from cookbook import Recipe, fails, prepare
from project import EXAMPLES, RECIPES, example_revision, with_connection
from sqlalchemy import Connection

SETUP, IDENTITY, RENAME = (example_revision(f) for f in RECIPES["identity"])
TITLES = ["printer", "vpn", "laptop", "badge", "chair"]
NAMING_CONVENTION = {"ix": "ix_%(column_0_label)s", "pk": "pk_%(table_name)s"}


def seeded(recipe: Recipe, titles: list[str] = TITLES) -> Recipe:
    """Tickets created by step 1 and filled the application's way (ids from the default)."""
    recipe.install(*RECIPES["identity"])
    recipe.upgrade(SETUP)
    if titles:
        recipe.run(
            "INSERT INTO tickets (title, status) VALUES (:title, 'open')",
            [{"title": t} for t in titles],
        )
    return recipe


def insert(recipe: Recipe, table: str, title: str) -> int:
    """An application insert; the id the database gave it."""
    return with_connection(
        recipe.url,
        lambda conn: conn.execute(
            sa.text(f"INSERT INTO {table} (title, status) VALUES (:t, 'new') RETURNING id"),
            {"t": title},
        ).scalar_one(),
    )


def id_column(recipe: Recipe, table: str) -> tuple[Any, ...]:
    """(identity kind, default expression, pg_get_serial_sequence) of table.id."""
    (row,) = recipe.rows(
        "SELECT a.attidentity::text, pg_get_expr(d.adbin, d.adrelid), "
        f"pg_get_serial_sequence('{table}', 'id') FROM pg_attribute a "
        "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        f"WHERE a.attrelid = '{table}'::regclass AND a.attname = 'id'"
    )
    return row


def names_of(recipe: Recipe, table: str) -> list[str]:
    """The table's indexes and primary key, and the sequences in the schema.

    PostgreSQL 18 also names NOT NULL constraints (tickets_id_not_null); a rename
    keeps those, and nothing alembic writes looks them up by name.
    """
    return [
        r[0]
        for r in recipe.rows(
            f"SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = '{table}'::regclass "
            f"UNION ALL SELECT conname FROM pg_constraint WHERE conrelid = '{table}'::regclass "
            "AND contype = 'p' "
            "UNION ALL SELECT relname FROM pg_class WHERE relkind = 'S' ORDER BY 1"
        )
    ]


def check_diffs(recipe: Recipe, identity: bool = True) -> list[tuple[str, str | None]]:
    """What autogenerate (alembic check) finds for a model of support_tickets, with env.py's
    compare_server_default; ``identity``: the model's id has ``Identity()``."""
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    sa.Table(
        "support_tickets",
        metadata,
        sa.Column("id", sa.Integer, *([sa.Identity()] if identity else []), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, index=True),
    )

    def compare(conn: Connection) -> list[tuple[str, str | None]]:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_server_default": True,
                "include_name": lambda name, kind, _: kind != "table" or name == "support_tickets",
            },
        )
        found: list[tuple[str, str | None]] = []
        for diff in compare_metadata(context, metadata):
            if isinstance(diff, tuple):  # (kind, object, ...)
                found.append((diff[0], diff[1].name))
            else:  # column changes: a list of (kind, schema, table, column, ...)
                found.extend((change[0], change[3]) for change in diff)
        return sorted(found)

    return with_connection(recipe.url, compare)


def drop_primary_key(recipe: Recipe, name: str) -> None:
    """op.drop_constraint(name, "support_tickets", type_="primary"), rolled back."""

    class RolledBack(Exception):
        pass

    def drop(conn: Connection) -> None:
        with conn.begin_nested():
            Operations(MigrationContext.configure(conn)).drop_constraint(
                name, "support_tickets", type_="primary"
            )
            raise RolledBack

    with contextlib.suppress(RolledBack):
        with_connection(recipe.url, drop)


def relfilenode(recipe: Recipe, table: str) -> int:
    return recipe.rows(f"SELECT relfilenode FROM pg_class WHERE relname = '{table}'")[0][0]


def test_serial_to_identity_and_rename_keep_the_counter(postgresql_recipe: Recipe) -> None:
    recipe = seeded(postgresql_recipe)
    recipe.run("DELETE FROM tickets WHERE id = 5")  # the serial has handed out 5: max(id) is 4
    assert id_column(recipe, "tickets") == (
        "",
        "nextval('tickets_id_seq'::regclass)",
        "public.tickets_id_seq",
    )
    file_before = relfilenode(recipe, "tickets")

    recipe.upgrade(IDENTITY)
    assert id_column(recipe, "tickets") == ("d", None, "public.tickets_id_seq")
    assert relfilenode(recipe, "tickets") == file_before  # no rewrite
    assert insert(recipe, "tickets", "after identity") == 6  # not 1, and not 5 again
    recipe.run("INSERT INTO tickets (id, title, status) VALUES (100, 'explicit id', 'open')")

    recipe.upgrade(RENAME)
    assert id_column(recipe, "support_tickets") == ("d", None, "public.support_tickets_id_seq")
    assert names_of(recipe, "support_tickets") == [
        "ix_support_tickets_status",
        "pk_support_tickets",
        "pk_support_tickets",
        "support_tickets_id_seq",
    ]
    assert insert(recipe, "support_tickets", "after rename") == 7
    assert check_diffs(recipe) == []  # alembic check is clean, with Identity() in the model
    # Without it: the identity is a default to remove, and autogenerate would remove it.
    assert check_diffs(recipe, identity=False) == [("modify_default", "id")]
    drop_primary_key(recipe, "pk_support_tickets")  # a later revision finds the name
    assert recipe.rows("SELECT nextval('support_tickets_id_seq')") == [(8,)]

    recipe.downgrade(IDENTITY)
    assert id_column(recipe, "tickets") == ("d", None, "public.tickets_id_seq")
    assert names_of(recipe, "tickets") == [
        "ix_tickets_status",
        "pk_tickets",
        "pk_tickets",
        "tickets_id_seq",
    ]
    assert insert(recipe, "tickets", "renamed back") == 9

    recipe.downgrade(SETUP)  # serial again, same counter
    assert id_column(recipe, "tickets") == (
        "",
        "nextval('tickets_id_seq'::regclass)",
        "public.tickets_id_seq",
    )
    assert insert(recipe, "tickets", "serial again") == 101  # max(id) + 1: past the explicit 100
    assert recipe.rows("SELECT id, title FROM tickets ORDER BY id") == [
        *((n, t) for n, t in enumerate(TITLES[:4], start=1)),
        (6, "after identity"),
        (7, "after rename"),
        (9, "renamed back"),
        (100, "explicit id"),
        (101, "serial again"),
    ]
    # Owned by the column again: it goes with the table.
    owned = (
        "SELECT deptype::text FROM pg_depend "
        "WHERE objid = 'tickets_id_seq'::regclass AND refobjid = 'tickets'::regclass"
    )
    assert recipe.rows(owned) == [("a",)]

    recipe.downgrade()
    assert recipe.rows("SELECT count(*) FROM pg_class WHERE relname LIKE 'tickets%'") == [(0,)]


def insert_as(recipe: Recipe, role: str, title: str) -> int:
    """An insert by the application's role, which is not the sequence's owner."""

    def run(conn: Connection) -> int:
        conn.execute(sa.text(f'SET ROLE "{role}"'))
        return conn.execute(
            sa.text("INSERT INTO tickets (title, status) VALUES (:t, 'new') RETURNING id"),
            {"t": title},
        ).scalar_one()

    return with_connection(recipe.url, run)


def test_a_renamed_serial_sequence_and_its_grants_carry_over_both_ways(
    postgresql_recipe: Recipe,
) -> None:
    """The serial's sequence has another name (its table was renamed once) and the
    application role holds USAGE on it: step 2 finds it by pg_get_serial_sequence, its
    grant goes to the identity's sequence and back to the downgrade's serial; its
    MAXVALUE and its name are lost."""
    recipe = seeded(postgresql_recipe)
    recipe.run('ALTER SEQUENCE tickets_id_seq RENAME TO "old Tickets_id_seq"')
    recipe.run('ALTER SEQUENCE "old Tickets_id_seq" MAXVALUE 1000000')
    role = f"Tickets App {uuid.uuid4().hex[:8]}"  # roles belong to the whole server
    recipe.run(f'CREATE ROLE "{role}"')
    try:
        recipe.run(f'GRANT SELECT, INSERT ON tickets TO "{role}"')
        recipe.run(f'GRANT USAGE ON SEQUENCE "old Tickets_id_seq" TO "{role}"')
        assert insert_as(recipe, role, "serial") == 6
        usage = f"SELECT has_sequence_privilege('{role}', 'tickets_id_seq', 'USAGE')"
        max_value = "SELECT max_value FROM pg_sequences WHERE sequencename = 'tickets_id_seq'"

        recipe.upgrade(IDENTITY)
        assert id_column(recipe, "tickets") == ("d", None, "public.tickets_id_seq")
        assert recipe.rows(usage) == [(True,)]
        assert recipe.rows(max_value) == [(2147483647,)]  # the serial's MAXVALUE is gone
        assert insert_as(recipe, role, "identity") == 7

        recipe.downgrade(SETUP)
        assert id_column(recipe, "tickets")[2] == "public.tickets_id_seq"  # not the old name
        assert recipe.rows(usage) == [(True,)]
        assert insert_as(recipe, role, "serial again") == 8
        recipe.run(f'REVOKE USAGE ON SEQUENCE tickets_id_seq FROM "{role}"')  # not carried over
        with fails("permission denied for sequence tickets_id_seq"):
            insert_as(recipe, role, "refused")
    finally:
        recipe.run(f'DROP OWNED BY "{role}"')
        recipe.run(f'DROP ROLE "{role}"')


def test_an_empty_table_starts_at_1(postgresql_recipe: Recipe) -> None:
    recipe = seeded(postgresql_recipe, titles=[])
    recipe.upgrade(IDENTITY)
    assert insert(recipe, "tickets", "first") == 1
    recipe.downgrade(SETUP)
    assert insert(recipe, "tickets", "second") == 2


def test_without_the_setval_the_next_insert_collides(
    postgresql_recipe: Recipe, tmp_path: Path
) -> None:
    recipe = seeded(postgresql_recipe)
    text = (EXAMPLES / RECIPES["identity"][1]).read_text()
    line = '    bind.execute(MOVE_COUNTER, {"next": next_id})\n'
    assert text.count(line) == 2
    variant = tmp_path / "2_serial_to_identity.py"
    variant.write_text(text.replace(line, "", 1))  # the upgrade's setval only
    recipe.install(variant)

    recipe.upgrade(IDENTITY)
    with fails("duplicate key value violates unique constraint"):
        insert(recipe, "tickets", "collides with id 1")


def test_generated_always_refuses_explicit_ids(postgresql_recipe: Recipe) -> None:
    recipe = seeded(postgresql_recipe)
    recipe.upgrade(IDENTITY)
    explicit = "INSERT INTO tickets (id, title, status) VALUES ({id}, 'etl', 'open')"
    recipe.run(explicit.format(id=50))  # BY DEFAULT, as the recipe has it

    recipe.run("ALTER TABLE tickets ALTER COLUMN id SET GENERATED ALWAYS")
    with fails('cannot insert a non-DEFAULT value into column "id"'):
        recipe.run(explicit.format(id=51))
    recipe.run(explicit.format(id=52).replace("VALUES", "OVERRIDING SYSTEM VALUE VALUES"))
    assert recipe.rows("SELECT id FROM tickets WHERE id > 5 ORDER BY id") == [(50,), (52,)]


def test_a_plain_rename_keeps_the_old_names(postgresql_recipe: Recipe) -> None:
    recipe = seeded(postgresql_recipe)
    recipe.upgrade(IDENTITY)
    recipe.run("ALTER TABLE tickets RENAME TO support_tickets")  # all op.rename_table emits

    assert id_column(recipe, "support_tickets") == ("d", None, "public.tickets_id_seq")
    assert names_of(recipe, "support_tickets") == [
        "ix_tickets_status",
        "pk_tickets",
        "pk_tickets",
        "tickets_id_seq",
    ]
    assert insert(recipe, "support_tickets", "still works") == 6
    assert check_diffs(recipe) == [
        ("add_index", "ix_support_tickets_status"),
        ("remove_index", "ix_tickets_status"),
    ]
    with fails('constraint "pk_support_tickets" of relation "support_tickets" does not exist'):
        drop_primary_key(recipe, "pk_support_tickets")
    with fails('relation "support_tickets_id_seq" does not exist'):
        recipe.rows("SELECT setval('support_tickets_id_seq', 10)")


def test_sqlite_rename_keeps_the_autoincrement_counter(sqlite_url: Any, tmp_path: Path,
                                                       monkeypatch: Any) -> None:  # fmt: skip
    recipe = seeded(prepare(tmp_path, sqlite_url, monkeypatch))
    recipe.run("DELETE FROM tickets WHERE id = 5")
    recipe.upgrade(IDENTITY)  # nothing on SQLite
    assert recipe.rows("SELECT name, seq FROM sqlite_sequence") == [("tickets", 5)]

    recipe.upgrade(RENAME)
    assert recipe.rows("SELECT name, seq FROM sqlite_sequence") == [("support_tickets", 5)]
    assert insert(recipe, "support_tickets", "after rename") == 6  # AUTOINCREMENT: 5 stays used
    assert recipe.rows(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'support_tickets'"
    ) == [("ix_support_tickets_status",)]

    recipe.downgrade(SETUP)
    assert recipe.rows("SELECT name, seq FROM sqlite_sequence") == [("tickets", 6)]
    assert recipe.rows(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tickets'"
    ) == [("ix_tickets_status",)]
    assert insert(recipe, "tickets", "back") == 7
    recipe.downgrade()
    assert recipe.rows("SELECT name FROM sqlite_master WHERE name = 'tickets'") == []
