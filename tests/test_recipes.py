"""The cookbook in examples/: every recipe up and down on SQLite and PostgreSQL, data checked.

Each test copies the project, installs one recipe's revision files on top of the
project's head (its down_revision rewritten to that head), seeds rows, then
checks what the recipe's docstring promises after the upgrade and after the
downgrade, including the data a downgrade is documented to lose.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import io
import json
import logging
import re
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import render_python_code
from alembic.config import Config
from alembic.operations import ops
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from checker import run_checker
from cookbook import (
    NAMES,
    RECIPES_MD,
    Recipe,
    fails,
    prepare,
    seed_projects,
    seed_users,
    user_id,
)
from postgres import execute_autocommit
from project import (
    DOWN_REVISION_LINE,
    EXAMPLES,
    PLACEHOLDER_HEAD,
    PROJECT_DIR,
    RECIPES,
    alembic_environment,
    copy_project,
    example_revision,
    fetch,
    table_locked,
)
from sqlalchemy import event, pool
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

# 1. Rename a column -----------------------------------------------------------------


def test_rename_column(recipe: Recipe) -> None:
    ids = seed_users(recipe, NAMES)
    recipe.install(*RECIPES["rename"])

    recipe.upgrade()
    assert "name" not in recipe.columns("users")
    assert recipe.rows("SELECT id, display_name FROM users ORDER BY id") == list(
        zip(ids, NAMES, strict=True)
    )

    recipe.downgrade()
    assert "display_name" not in recipe.columns("users")
    assert recipe.rows("SELECT id, name FROM users ORDER BY id") == list(
        zip(ids, NAMES, strict=True)
    )


def test_rename_column_expand_contract(recipe: Recipe) -> None:
    expand, backfill, contract = (example_revision(f) for f in RECIPES["rename_expand_contract"])
    ids = seed_users(recipe, NAMES)
    recipe.install(*RECIPES["rename_expand_contract"])

    recipe.upgrade(expand)
    assert recipe.rows("SELECT count(*) FROM users WHERE display_name IS NOT NULL") == [(0,)]
    # Release A writes both columns; the backfill must keep what it wrote.
    recipe.run(
        "UPDATE users SET name = :name, display_name = :name WHERE id = :id",
        [{"id": ids[0], "name": "Ada L"}],
    )
    names = ["Ada L", *NAMES[1:]]

    recipe.upgrade(backfill)
    assert recipe.rows("SELECT display_name FROM users ORDER BY id") == [(n,) for n in names]

    recipe.upgrade(contract)
    assert "name" not in recipe.columns("users")
    assert recipe.rows("SELECT display_name FROM users ORDER BY id") == [(n,) for n in names]

    # The contract step's downgrade brings every name back.
    recipe.downgrade(backfill)
    assert recipe.rows("SELECT name, display_name FROM users ORDER BY id") == [
        (n, n) for n in names
    ]

    recipe.downgrade()
    assert "display_name" not in recipe.columns("users")
    assert recipe.rows("SELECT name FROM users ORDER BY id") == [(n,) for n in names]


# 2. NOT NULL column on a populated table --------------------------------------------

PROJECT_NAMES = ["Apollo", "Big Data Lake", "Mixed Case Name", "Zeta"]


def slug_check(recipe: Recipe) -> list[tuple[Any, ...]]:
    """(name, validated) of projects' CHECK constraints on PostgreSQL."""
    return recipe.rows(
        "SELECT conname, convalidated FROM pg_constraint "
        "WHERE conrelid = 'projects'::regclass AND contype = 'c'"
    )


def test_not_null_column(recipe: Recipe) -> None:
    add, backfill, set_not_null = (example_revision(f) for f in RECIPES["not_null"])
    ids = seed_projects(recipe, PROJECT_NAMES)
    recipe.install(*RECIPES["not_null"])

    recipe.upgrade(add)
    assert recipe.columns("projects")["slug"]["nullable"] is True
    # The release that writes slug is out: its rows keep their own value.
    recipe.run(
        "INSERT INTO projects (id, name, slug) VALUES (:id, :name, :slug)",
        [{"id": user_id(2000), "name": "New One", "slug": "custom-slug"}],
    )
    expected = [
        *zip(ids, ["apollo", "big-data-lake", "mixed-case-name", "zeta"], strict=True),
        (user_id(2000), "custom-slug"),
    ]

    recipe.upgrade(backfill)
    assert recipe.rows("SELECT id, slug FROM projects ORDER BY id") == expected
    if recipe.dialect == "postgresql":
        assert slug_check(recipe) == [("ck_projects_slug_not_null", False)]
        with fails("ck_projects_slug_not_null"):
            recipe.run("UPDATE projects SET slug = NULL WHERE id = :id", [{"id": ids[0]}])

    recipe.upgrade(set_not_null)
    assert recipe.columns("projects")["slug"]["nullable"] is False
    assert recipe.rows("SELECT id, slug FROM projects ORDER BY id") == expected
    if recipe.dialect == "postgresql":
        assert slug_check(recipe) == []
    with fails("null value", "NOT NULL constraint"):
        recipe.run("UPDATE projects SET slug = NULL WHERE id = :id", [{"id": ids[0]}])

    recipe.downgrade(backfill)
    assert recipe.columns("projects")["slug"]["nullable"] is True
    if recipe.dialect == "postgresql":
        assert slug_check(recipe) == [("ck_projects_slug_not_null", False)]
    assert recipe.rows("SELECT id, slug FROM projects ORDER BY id") == expected

    # Documented loss: revision 1's downgrade drops every slug.
    recipe.downgrade()
    assert "slug" not in recipe.columns("projects")
    assert recipe.rows("SELECT id, name FROM projects ORDER BY id") == [
        *zip(ids, PROJECT_NAMES, strict=True),
        (user_id(2000), "New One"),
    ]


def not_null_at_step_2(
    tmp_path: Path, url: URL, monkeypatch: pytest.MonkeyPatch
) -> tuple[Recipe, str, str]:
    """Recipe 02 installed on seeded projects, upgraded through its backfill (step 2).

    Returns the recipe and the revisions of steps 2 and 3.
    """
    recipe = prepare(tmp_path, url, monkeypatch)
    _, backfill, set_not_null = (example_revision(f) for f in RECIPES["not_null"])
    seed_projects(recipe, PROJECT_NAMES)
    recipe.install(*RECIPES["not_null"])
    recipe.upgrade(backfill)
    return recipe, backfill, set_not_null


def test_not_null_on_sqlite_refuses_a_null_left_behind(
    sqlite_url: URL, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch copy fails on a NULL, and leaves the table and the version as they were."""
    recipe, backfill, set_not_null = not_null_at_step_2(tmp_path, sqlite_url, monkeypatch)
    recipe.run("INSERT INTO projects (id, name) VALUES (:id, :name)", [{"id": "z", "name": "Late"}])

    with fails("NOT NULL constraint failed"):
        recipe.upgrade(set_not_null)
    assert recipe.current() == backfill
    assert recipe.rows("SELECT name FROM sqlite_master WHERE name LIKE '_alembic_tmp%'") == []
    assert recipe.columns("projects")["slug"]["nullable"] is True


def test_set_not_null_skips_the_table_scan(
    postgresql_url: URL, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL 12+: the validated CHECK lets SET NOT NULL skip its full scan."""
    recipe, _, set_not_null = not_null_at_step_2(tmp_path, postgresql_url, monkeypatch)

    messages = recipe.with_server_messages("upgrade", set_not_null)
    assert recipe.current() == set_not_null
    proof = 'existing constraints on column "projects.slug" are sufficient to prove'
    assert any(proof in m for m in messages), messages


def test_not_null_keeps_the_validation_when_set_not_null_times_out(
    postgresql_url: URL, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader blocks SET NOT NULL's ACCESS EXCLUSIVE; the finished scan must survive."""
    recipe, backfill, set_not_null = not_null_at_step_2(tmp_path, postgresql_url, monkeypatch)
    monkeypatch.setenv("MIGRATION_LOCK_TIMEOUT", "300ms")

    with table_locked(postgresql_url, "projects"), fails("lock timeout"):
        recipe.upgrade(set_not_null)

    assert recipe.current() == backfill
    assert slug_check(recipe) == [("ck_projects_slug_not_null", True)]  # validated, kept
    recipe.upgrade(set_not_null)  # the retry needs only the brief lock
    assert slug_check(recipe) == []
    assert recipe.columns("projects")["slug"]["nullable"] is False


# 3. Index built concurrently ---------------------------------------------------------

INDEX = "ix_users_created_at"


def user_indexes(recipe: Recipe) -> dict[str, bool]:
    return recipe.inspect(lambda i: {x["name"]: bool(x["unique"]) for x in i.get_indexes("users")})


def test_create_index_concurrently(recipe: Recipe) -> None:
    ids = seed_users(recipe, NAMES)
    recipe.install(*RECIPES["index"])

    recipe.upgrade()
    assert user_indexes(recipe)[INDEX] is False
    if recipe.dialect == "postgresql":
        assert recipe.rows(
            f"SELECT indisvalid FROM pg_index WHERE indexrelid = '{INDEX}'::regclass"
        ) == [(True,)]

    recipe.downgrade()
    assert INDEX not in user_indexes(recipe)
    assert recipe.rows("SELECT id FROM users ORDER BY id") == [(i,) for i in ids]


def test_index_recipe_replaces_an_invalid_leftover(
    postgresql_url: URL, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """IF NOT EXISTS alone would keep the INVALID index a failed concurrent build left."""
    recipe = prepare(tmp_path, postgresql_url, monkeypatch)
    seed_users(recipe, NAMES)
    recipe.run("UPDATE users SET created_at = '2026-01-01T00:00:00Z'")
    # A concurrent unique build over duplicates fails and leaves the index INVALID.
    with fails("could not create unique index"):
        asyncio.run(
            execute_autocommit(
                postgresql_url, f"CREATE UNIQUE INDEX CONCURRENTLY {INDEX} ON users (created_at)"
            )
        )
    valid = f"SELECT indisvalid FROM pg_index WHERE indexrelid = '{INDEX}'::regclass"
    assert recipe.rows(valid) == [(False,)]
    recipe.install(*RECIPES["index"])

    recipe.upgrade()
    assert recipe.rows(valid) == [(True,)]
    assert user_indexes(recipe)[INDEX] is False


def test_index_recipe_renders_concurrently_outside_a_transaction(
    postgresql_url: URL, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Offline SQL (``alembic upgrade --sql``): COMMIT, then the concurrent build."""
    recipe = prepare(tmp_path, postgresql_url, monkeypatch)
    recipe.install(*RECIPES["index"])
    revision = example_revision(RECIPES["index"][0])
    buffer = io.StringIO()
    recipe.config.output_buffer = buffer
    command.upgrade(recipe.config, f"{recipe.base}:{revision}", sql=True)
    command.downgrade(recipe.config, f"{revision}:{recipe.base}", sql=True)
    sql = " ".join(buffer.getvalue().split())
    assert (
        "COMMIT; CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_users_created_at ON users (created_at);"
        in sql
    )
    assert "COMMIT; DROP INDEX CONCURRENTLY IF EXISTS ix_users_created_at;" in sql


# 4. PostgreSQL enum, VARCHAR + CHECK on SQLite ---------------------------------------


def enum_labels(recipe: Recipe, name: str = "project_status") -> list[str]:
    return [
        label
        for (label,) in recipe.rows(
            "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid "
            f"WHERE t.typname = '{name}' ORDER BY e.enumsortorder"
        )
    ]


def test_postgresql_enum(recipe: Recipe) -> None:
    create, add_value = (example_revision(f) for f in RECIPES["enum"])
    ids = seed_projects(recipe, PROJECT_NAMES)
    recipe.install(*RECIPES["enum"])
    set_status = "UPDATE projects SET status = :status WHERE id = :id"

    recipe.upgrade(create)
    assert recipe.rows("SELECT DISTINCT status FROM projects") == [("active",)]
    if recipe.dialect == "postgresql":
        assert enum_labels(recipe) == ["active", "archived"]
    with fails("invalid input value for enum", "CHECK constraint failed"):
        recipe.run(set_status, [{"id": ids[0], "status": "paused"}])

    recipe.upgrade(add_value)
    if recipe.dialect == "postgresql":
        assert enum_labels(recipe) == ["active", "paused", "archived"]
    recipe.run(
        set_status, [{"id": ids[0], "status": "paused"}, {"id": ids[1], "status": "archived"}]
    )

    # Documented loss: 'paused' projects become 'active'.
    recipe.downgrade(create)
    assert recipe.rows("SELECT id, status FROM projects ORDER BY id") == [
        (ids[0], "active"),
        (ids[1], "archived"),
        *((i, "active") for i in ids[2:]),
    ]
    if recipe.dialect == "postgresql":
        assert enum_labels(recipe) == ["active", "archived"]
        assert enum_labels(recipe, "project_status_old") == []
    with fails("invalid input value for enum", "CHECK constraint failed"):
        recipe.run(set_status, [{"id": ids[0], "status": "paused"}])

    # Documented loss: every status. The type goes too, so upgrading again works.
    recipe.downgrade()
    assert "status" not in recipe.columns("projects")
    if recipe.dialect == "postgresql":
        assert recipe.rows("SELECT count(*) FROM pg_type WHERE typname = 'project_status'") == [
            (0,)
        ]
    assert recipe.rows("SELECT id, name FROM projects ORDER BY id") == list(
        zip(ids, PROJECT_NAMES, strict=True)
    )
    recipe.upgrade()
    recipe.downgrade()


# 5. Batch alter: type change, named CHECK and UNIQUE ---------------------------------


def projects_schema(recipe: Recipe) -> dict[str, Any]:
    def read(inspector: Any) -> dict[str, Any]:
        return {
            "name_type": str(
                next(c["type"] for c in inspector.get_columns("projects") if c["name"] == "name")
            ),
            "checks": sorted(c["name"] for c in inspector.get_check_constraints("projects")),
            "unique": sorted(u["name"] for u in inspector.get_unique_constraints("projects")),
            "foreign_keys": sorted(f["name"] for f in inspector.get_foreign_keys("projects")),
            "indexes": sorted(i["name"] for i in inspector.get_indexes("projects")),
        }

    return recipe.inspect(read)


def test_batch_alter(recipe: Recipe) -> None:
    owner, other = seed_users(recipe, ["Owner", "Other"])
    ids = seed_projects(recipe, PROJECT_NAMES, owner=owner)
    before = projects_schema(recipe)
    recipe.install(*RECIPES["batch_alter"])

    recipe.upgrade()
    after = projects_schema(recipe)
    assert after["name_type"] == "VARCHAR(200)"
    assert after["checks"] == ["ck_projects_name_not_blank"]
    assert after["unique"] == ["uq_projects_owner_id_name"]
    # Batch mode kept the foreign key and the index, and every row.
    assert after["foreign_keys"] == before["foreign_keys"] == ["fk_projects_owner_id_users"]
    assert "ix_projects_owner_id" in after["indexes"]
    assert recipe.rows("SELECT id, name, owner_id FROM projects ORDER BY id") == [
        (i, name, owner) for i, name in zip(ids, PROJECT_NAMES, strict=True)
    ]
    insert = "INSERT INTO projects (id, name, owner_id) VALUES (:id, :name, :owner_id)"
    with fails("ck_projects_name_not_blank"):
        recipe.run(insert, [{"id": user_id(3000), "name": "  ", "owner_id": owner}])
    with fails("uq_projects_owner_id_name", "UNIQUE constraint failed"):
        recipe.run(insert, [{"id": user_id(3000), "name": "Apollo", "owner_id": owner}])
    recipe.run(insert, [{"id": user_id(3000), "name": "Apollo", "owner_id": other}])

    recipe.downgrade()
    assert projects_schema(recipe) == before
    assert recipe.rows("SELECT count(*) FROM projects") == [(len(PROJECT_NAMES) + 1,)]


def test_batch_alter_downgrade_with_a_long_name(recipe: Recipe) -> None:
    """Documented: PostgreSQL refuses to narrow over a long name; SQLite keeps it."""
    recipe.install(*RECIPES["batch_alter"])
    recipe.upgrade()
    long_name = "x" * 150
    seed_projects(recipe, [long_name])

    if recipe.dialect == "postgresql":
        with fails("value too long"):
            recipe.downgrade()
        assert recipe.current() == example_revision(RECIPES["batch_alter"][0])
    else:
        recipe.downgrade()
        assert recipe.rows("SELECT name FROM projects") == [(long_name,)]


# 6. Foreign key NOT VALID, validated later -------------------------------------------


def reviewer_key(recipe: Recipe) -> list[tuple[Any, ...]]:
    """(name, validated) of the reviewer foreign key on PostgreSQL."""
    return recipe.rows(
        "SELECT conname, convalidated FROM pg_constraint "
        "WHERE conrelid = 'projects'::regclass AND conname = 'fk_projects_reviewer_id_users'"
    )


def reviewer_index(recipe: Recipe) -> list[str]:
    """The indexes on projects.reviewer_id alone."""
    return [
        i["name"]
        for i in recipe.inspect(lambda i: i.get_indexes("projects"))
        if i["column_names"] == ["reviewer_id"]
    ]


def test_foreign_key_not_valid(recipe: Recipe) -> None:
    add_column, index, add_key, validate = (example_revision(f) for f in RECIPES["foreign_key"])
    reviewer, _ = seed_users(recipe, ["Reviewer", "Other"])
    ids = seed_projects(recipe, PROJECT_NAMES)
    recipe.install(*RECIPES["foreign_key"])
    set_reviewer = "UPDATE projects SET reviewer_id = :reviewer WHERE id = :id"
    orphan = user_id(999)

    recipe.upgrade(add_column)
    # The release writes reviewer ids; one of them points at no user.
    recipe.run(
        set_reviewer, [{"id": ids[0], "reviewer": reviewer}, {"id": ids[1], "reviewer": orphan}]
    )
    expected = [(ids[0], reviewer), (ids[1], orphan), *((i, None) for i in ids[2:])]

    recipe.upgrade(index)
    assert reviewer_index(recipe) == [REVIEWER_INDEX]
    if recipe.dialect == "postgresql":
        assert recipe.rows(
            f"SELECT indisvalid FROM pg_index WHERE indexrelid = '{REVIEWER_INDEX}'::regclass"
        ) == [(True,)]

    recipe.upgrade(add_key)
    foreign_keys = recipe.inspect(lambda i: i.get_foreign_keys("projects"))
    assert {f["name"]: f["referred_table"] for f in foreign_keys} == {
        "fk_projects_owner_id_users": "users",
        "fk_projects_reviewer_id_users": "users",
    }
    assert reviewer_index(recipe) == [REVIEWER_INDEX]  # SQLite's batch copy kept it
    assert recipe.rows("SELECT id, reviewer_id FROM projects ORDER BY id") == expected

    if recipe.dialect == "postgresql":
        # NOT VALID: the old orphan stays, a new one is refused.
        assert reviewer_key(recipe) == [("fk_projects_reviewer_id_users", False)]
        with fails("fk_projects_reviewer_id_users"):
            recipe.run(set_reviewer, [{"id": ids[2], "reviewer": orphan}])
        # ondelete is NO ACTION: the application's DELETE of a reviewer fails from now on.
        with fails('delete on table "users" violates foreign key constraint "fk_projects_rev'):
            recipe.run("DELETE FROM users WHERE id = :id", [{"id": reviewer}])
        assert recipe.rows("SELECT count(*) FROM users") == [(2,)]
        # VALIDATE finds the old orphan and fails; the revision stays unapplied.
        with fails("fk_projects_reviewer_id_users"):
            recipe.upgrade(validate)
        assert recipe.current() == add_key
        recipe.run("UPDATE projects SET reviewer_id = NULL WHERE id = :id", [{"id": ids[1]}])
        expected[1] = (ids[1], None)

    recipe.upgrade(validate)
    assert recipe.current() == validate
    if recipe.dialect == "postgresql":
        assert reviewer_key(recipe) == [("fk_projects_reviewer_id_users", True)]
    assert recipe.rows("SELECT id, reviewer_id FROM projects ORDER BY id") == expected

    recipe.downgrade(index)
    assert [f["name"] for f in recipe.inspect(lambda i: i.get_foreign_keys("projects"))] == [
        "fk_projects_owner_id_users"
    ]
    assert reviewer_index(recipe) == [REVIEWER_INDEX]
    assert recipe.rows("SELECT id, reviewer_id FROM projects ORDER BY id") == expected

    recipe.downgrade(add_column)
    assert reviewer_index(recipe) == []
    assert recipe.rows("SELECT id, reviewer_id FROM projects ORDER BY id") == expected

    # Documented loss: the reviewer ids.
    recipe.downgrade()
    assert "reviewer_id" not in recipe.columns("projects")
    assert recipe.rows("SELECT id FROM projects ORDER BY id") == [(i,) for i in ids]


REVIEWER_INDEX = "ix_projects_reviewer_id"
# What a DELETE of users did to projects in its transaction: scans of the table, and
# lookups through the reviewer index.
PROJECTS_READS = (
    "SELECT seq_scan, pg_stat_get_xact_numscans(to_regclass('ix_projects_reviewer_id')) "
    "FROM pg_stat_xact_user_tables WHERE relname = 'projects'"
)


async def delete_a_user_and_count_reads(url: URL, *before: str) -> tuple[int, int | None]:
    """DELETE one user nobody references, in a transaction rolled back afterwards.

    The foreign keys' checks look for projects that reference the user. Returns
    (seq_scan of projects, idx_scan of the reviewer index) in that transaction.
    """
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            for statement in before:
                await connection.exec_driver_sql(statement)
            await connection.exec_driver_sql("DELETE FROM users WHERE id = 'nobody-reviews'")
            (reads,) = (await connection.exec_driver_sql(PROJECTS_READS)).all()
            await connection.rollback()
    finally:
        await engine.dispose()
    return reads[0], reads[1]


def test_foreign_key_checks_use_the_reviewer_index(
    postgresql_url: URL, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Why step 2 exists: a DELETE of a user finds its projects through the index.

    Without it, the same DELETE scans all of projects (shown with the index dropped
    in a transaction that is rolled back).
    """
    recipe = prepare(tmp_path, postgresql_url, monkeypatch)
    recipe.install(*RECIPES["foreign_key"])
    recipe.upgrade()
    recipe.run(
        "INSERT INTO users (id, email) SELECT 'u' || g, 'u' || g || '@example.com' "
        "FROM generate_series(1, 200) AS g"
    )
    recipe.run("INSERT INTO users (id, email) VALUES ('nobody-reviews', 'n@example.com')")
    recipe.run(
        "INSERT INTO projects (id, name, reviewer_id) "
        "SELECT 'p' || g, 'project ' || g, 'u' || (g % 200 + 1) FROM generate_series(1, 2000) AS g"
    )
    asyncio.run(execute_autocommit(postgresql_url, "ANALYZE users", "ANALYZE projects"))

    seq_scans, index_scans = asyncio.run(delete_a_user_and_count_reads(postgresql_url))
    assert (seq_scans, index_scans) == (0, 1)

    # The control: the same DELETE without the index reads the whole table.
    seq_scans, index_scans = asyncio.run(
        delete_a_user_and_count_reads(postgresql_url, f"DROP INDEX {REVIEWER_INDEX}")
    )
    assert (seq_scans, index_scans) == (1, None)


def test_autogenerate_renders_not_valid_foreign_keys() -> None:
    """recipes.md: the keyword reaches a rendered revision (alembic 1.16.2+, #1671)."""
    create = ops.CreateForeignKeyOp(
        "fk_projects_reviewer_id_users",
        "projects",
        "users",
        ["reviewer_id"],
        ["id"],
        postgresql_not_valid=True,
    )
    rendered = render_python_code(ops.UpgradeOps([create]))
    assert "postgresql_not_valid=True" in rendered
    text = " ".join(RECIPES_MD.read_text().split())
    assert "since alembic 1.16.2, #1671" in text
    # The wrong date once given for it; 1.20.1 may be named for other things.
    sentences = text.split(". ")
    assert not [s for s in sentences if "1.20.1" in s and "not_valid" in s.lower()]


# 7. Split one column into two --------------------------------------------------------

SPLIT = {
    "Ada King Lovelace": ("Ada", "King Lovelace"),
    "Grace Hopper": ("Grace", "Hopper"),
    "Plato": ("Plato", None),
    None: (None, None),
    "": ("", None),
    " Leading": ("", "Leading"),
    "Two  Spaces": ("Two", " Spaces"),
    "Trailing ": ("Trailing", ""),
}


def test_split_column(recipe: Recipe) -> None:
    expand, backfill, contract = (example_revision(f) for f in RECIPES["split"])
    names = list(SPLIT)
    ids = seed_users(recipe, names)
    recipe.install(*RECIPES["split"])
    parts = "SELECT id, first_name, last_name FROM users ORDER BY id"

    recipe.upgrade(expand)
    assert recipe.rows("SELECT count(*) FROM users WHERE first_name IS NOT NULL") == [(0,)]
    # Release A writes the full name and both parts.
    recipe.run(
        "INSERT INTO users (id, email, name, first_name, last_name) "
        "VALUES (:id, 'a@example.com', 'Mary Ann Evans', 'Mary', 'Ann Evans')",
        [{"id": user_id(100)}],
    )

    recipe.upgrade(backfill)
    split = [(i, *SPLIT[name]) for i, name in zip(ids, names, strict=True)]
    assert recipe.rows(parts) == [*split, (user_id(100), "Mary", "Ann Evans")]

    # An old pod writes a full name after the backfill: the contract step splits it.
    recipe.run(
        "INSERT INTO users (id, email, name) VALUES (:id, 'late@example.com', 'Late Comer')",
        [{"id": user_id(101)}],
    )
    recipe.upgrade(contract)
    assert "name" not in recipe.columns("users")
    assert recipe.rows(parts)[-2:] == [
        (user_id(100), "Mary", "Ann Evans"),
        (user_id(101), "Late", "Comer"),
    ]
    # Release C writes the parts only.
    recipe.run(
        "INSERT INTO users (id, email, first_name, last_name) VALUES (:id, 's@example.com', "
        "NULL, 'Solo')",
        [{"id": user_id(102)}],
    )

    recipe.downgrade(backfill)  # the contract step's downgrade rebuilds name
    full_names = [
        *zip(ids, names, strict=True),
        (user_id(100), "Mary Ann Evans"),
        (user_id(101), "Late Comer"),
        (user_id(102), " Solo"),
    ]
    assert recipe.rows("SELECT id, name FROM users ORDER BY id") == full_names

    recipe.downgrade()
    assert {"first_name", "last_name"}.isdisjoint(recipe.columns("users"))
    assert recipe.rows("SELECT id, name FROM users ORDER BY id") == full_names


def upgrade_with_statement_hook(recipe: Recipe, target: str, hook: Callable[[str], None]) -> None:
    """Upgrade through an engine that calls ``hook(statement)`` before each statement."""
    engine = create_async_engine(recipe.url, poolclass=pool.NullPool)

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        hook(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    recipe.config.attributes["connection"] = engine
    try:
        recipe.upgrade(target)
    finally:
        del recipe.config.attributes["connection"]
        asyncio.run(engine.dispose())


def test_split_column_keeps_what_old_code_writes_meanwhile(recipe: Recipe) -> None:
    """Old code writes only name while the split runs: an insert behind the batch
    cursor, and a rename of a row already split. Neither may be lost."""
    seed_users(recipe, list(SPLIT))
    recipe.install(*RECIPES["split"])
    batches = 0

    def old_code_writes(statement: str) -> None:
        nonlocal batches
        if statement.startswith("UPDATE users SET first_name"):
            batches += 1
            if batches == 2:  # batch 1 (users 1 and 2) has committed
                with ThreadPoolExecutor(1) as old_code:
                    old_code.submit(
                        recipe.run,
                        "INSERT INTO users (id, email, name) VALUES (:id, 'late@example.com', "
                        "'Late Comer')",
                        [{"id": user_id(0)}],
                    ).result()
                    old_code.submit(
                        recipe.run,
                        "UPDATE users SET name = 'Ada Byron King' WHERE id = :id",
                        [{"id": user_id(1)}],
                    ).result()

    upgrade_with_statement_hook(recipe, "head", old_code_writes)

    assert batches >= 2, "the split ran in fewer than two batches"
    parts = "SELECT first_name, last_name FROM users WHERE id = :id"
    assert recipe.rows(parts.replace(":id", f"'{user_id(0)}'")) == [("Late", "Comer")]
    assert recipe.rows(parts.replace(":id", f"'{user_id(1)}'")) == [("Ada", "Byron King")]


# 8. Large, resumable backfill --------------------------------------------------------


class Interrupted(Exception):
    """Stands for a crash or a deploy timeout in the middle of a backfill."""


class StopAfterBatches(logging.Handler):
    """Raise from the progress log once ``batches`` batches have committed."""

    def __init__(self, batches: int) -> None:
        super().__init__()
        self.left = batches
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
        if "rows/s" in record.getMessage():
            self.left -= 1
            if self.left == 0:
                raise Interrupted


@pytest.fixture
def backfill_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.INFO, logger="alembic.backfill")
    yield caplog


def test_resumable_backfill(recipe: Recipe, backfill_log: pytest.LogCaptureFixture) -> None:
    emails = [f"  User{n}@Example.COM " for n in range(1, 24)]
    ids = [user_id(n) for n in range(1, 24)]
    recipe.run(
        "INSERT INTO users (id, email) VALUES (:id, :email)",
        [{"id": i, "email": e} for i, e in zip(ids, emails, strict=True)],
    )
    recipe.install(*RECIPES["backfill"], batch_size=None)
    recipe.config.cmd_opts = argparse.Namespace(x=["batch_size=5"])
    normalized = "SELECT id, email_normalized FROM users ORDER BY id"

    logger = logging.getLogger("alembic.backfill")
    stop = StopAfterBatches(2)
    logger.addHandler(stop)
    try:
        with pytest.raises(Interrupted):
            recipe.upgrade()
    finally:
        logger.removeHandler(stop)
    # Two committed batches of five; the revision is not marked done.
    assert recipe.current() == recipe.base
    first_run = recipe.rows(normalized)
    assert first_run[:10] == [
        (i, e.strip().lower()) for i, e in zip(ids, emails[:10], strict=False)
    ]
    assert all(value is None for _, value in first_run[10:])
    assert stop.messages[0] == "backfill users.email_normalized: 23 rows to do, batches of 5"
    assert re.fullmatch(r".*: 10/23 rows \(43%\), \d+ rows/s", stop.messages[-1])

    # Meanwhile the application writes values of its own, done row and pending row.
    set_value = "UPDATE users SET email_normalized = :value WHERE id = :id"
    recipe.run(set_value, [{"id": ids[0], "value": "app-0"}, {"id": ids[15], "value": "app-15"}])
    backfill_log.clear()

    recipe.upgrade()
    assert recipe.current() == example_revision(RECIPES["backfill"][0])
    expected = [(i, e.strip().lower()) for i, e in zip(ids, emails, strict=True)]
    expected[0] = (ids[0], "app-0")
    expected[15] = (ids[15], "app-15")
    assert recipe.rows(normalized) == expected
    # The rerun did only what was left: 23 - 10 done - 1 written by the application.
    second_log = [r.getMessage() for r in backfill_log.records if r.name == "alembic.backfill"]
    assert second_log[0] == "backfill users.email_normalized: 12 rows to do, batches of 5"
    progress = [m for m in second_log if "rows/s" in m]
    # Batches by id range: the one holding the application's row changes four rows.
    assert [m.split(": ")[1].split(" rows")[0] for m in progress] == ["5/12", "9/12", "12/12"]
    assert second_log[-1] == "backfill users.email_normalized: no rows left to do"

    # Documented loss: the column and its values.
    recipe.downgrade()
    assert "email_normalized" not in recipe.columns("users")
    assert recipe.rows("SELECT id, email FROM users ORDER BY id") == list(
        zip(ids, emails, strict=True)
    )


# 9. Merge two heads ------------------------------------------------------------------


def test_merge_heads(recipe: Recipe) -> None:
    branch_a, branch_b = (example_revision(f) for f in RECIPES["merge_branches"])
    (merge,) = (example_revision(f) for f in RECIPES["merge"])
    ids = seed_users(recipe, NAMES)
    projects = seed_projects(recipe, PROJECT_NAMES)
    recipe.install(*RECIPES["merge_branches"])

    # How CI sees it: more than one head, and `alembic heads` prints one line each.
    assert recipe.heads() == sorted([branch_a, branch_b])
    command.heads(recipe.config)
    assert sorted(recipe.config.stdout.getvalue().splitlines()) == sorted(
        [f"{branch_a} (head)", f"{branch_b} (head)"]
    )
    with pytest.raises(CommandError, match="Multiple head revisions are present"):
        recipe.upgrade()
    # `alembic upgrade heads` would apply both; a merge gives the history one head again.

    # `alembic merge heads` writes a revision whose down_revision is both heads.
    generated = command.merge(recipe.config, "heads", message="merge heads")
    assert generated is not None
    assert sorted(generated.down_revision) == sorted([branch_a, branch_b])
    assert recipe.heads() == [generated.revision]
    Path(generated.path).unlink()

    recipe.install(*RECIPES["merge"])
    assert recipe.heads() == [merge]
    recipe.upgrade()
    assert recipe.current() == merge
    assert "bio" in recipe.columns("users")
    assert "archived_at" in recipe.columns("projects")
    assert recipe.rows("SELECT id, name FROM users ORDER BY id") == list(
        zip(ids, NAMES, strict=True)
    )

    # Documented: one step down from a merge has two targets; name one.
    with pytest.raises(CommandError, match="Ambiguous walk"):
        recipe.downgrade("-1")
    recipe.downgrade(branch_a)
    assert sorted(recipe.rows("SELECT version_num FROM alembic_version")) == sorted(
        [(branch_a,), (branch_b,)]
    )

    # Documented loss: bios and archive times. The data underneath stays.
    recipe.downgrade()
    assert "bio" not in recipe.columns("users")
    assert "archived_at" not in recipe.columns("projects")
    assert recipe.rows("SELECT id FROM projects ORDER BY id") == [(i,) for i in projects]


def test_ci_single_head_check(tmp_path: Path) -> None:
    """The shell check references/recipes.md gives CI: exit 0 on one head, 1 on two."""
    project = copy_project(tmp_path / "project")
    config = Config(project / "alembic.ini")
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    recipe = Recipe(project=project, url=make_url("sqlite://"), base=head, config=config)
    blocks = re.findall(r"^```bash\n(.*?)\n```", RECIPES_MD.read_text(), re.M | re.S)
    (check,) = [block for block in blocks if "alembic heads" in block]
    assert "alembic heads" in check

    def run_check() -> subprocess.CompletedProcess[str]:
        env = alembic_environment()
        return subprocess.run(
            ["bash", "-c", check], cwd=recipe.project, env=env, capture_output=True, text=True
        )

    assert run_check().returncode == 0
    recipe.install(*RECIPES["merge_branches"])
    failed = run_check()
    assert failed.returncode == 1
    assert failed.stdout.count("(head)") == 2


# 10. A view replaced, and restored by the downgrade ----------------------------------


def view_definition(recipe: Recipe) -> tuple[Any, ...]:
    if recipe.dialect == "postgresql":
        (row,) = recipe.rows(
            "SELECT 'project_owners'::regclass::oid, pg_get_viewdef('project_owners'::regclass)"
        )
    else:
        (row,) = recipe.rows("SELECT name, sql FROM sqlite_master WHERE name = 'project_owners'")
    return row


def test_replace_view(recipe: Recipe) -> None:
    create, replace = (example_revision(f) for f in RECIPES["view"])
    owner, _ = seed_users(recipe, ["Ada Lovelace", "Other"])
    ids = seed_projects(recipe, ["Engine", "Notes"], owner=owner)
    recipe.run("UPDATE projects SET owner_id = NULL WHERE id = :id", [{"id": ids[1]}])
    recipe.install(*RECIPES["view"])
    view = "SELECT * FROM project_owners ORDER BY project_id"

    recipe.upgrade(create)
    original = view_definition(recipe)
    assert recipe.rows(view) == [
        (ids[0], "Engine", "user1@example.com"),
        (ids[1], "Notes", None),
    ]

    recipe.upgrade(replace)
    assert recipe.rows(view) == [
        (ids[0], "Engine", "user1@example.com", "Ada Lovelace"),
        (ids[1], "Notes", None, None),
    ]
    if recipe.dialect == "postgresql":
        # CREATE OR REPLACE: the same object, so grants and dependents survive.
        assert view_definition(recipe)[0] == original[0]

    recipe.downgrade(create)
    restored = view_definition(recipe)
    assert restored[1] == original[1]
    assert recipe.rows(view) == [
        (ids[0], "Engine", "user1@example.com"),
        (ids[1], "Notes", None),
    ]

    recipe.downgrade()
    assert recipe.rows(
        "SELECT count(*) FROM information_schema.views WHERE table_name = 'project_owners'"
        if recipe.dialect == "postgresql"
        else "SELECT count(*) FROM sqlite_master WHERE name = 'project_owners'"
    ) == [(0,)]
    assert recipe.rows("SELECT count(*) FROM projects") == [(2,)]


def test_view_grants_survive_both_directions(
    postgresql_url: URL,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    app_role: tuple[str, str],
) -> None:
    """An application role that may read only the view keeps reading it, up and down.

    Grants belong to the view object: CREATE OR REPLACE keeps them, DROP VIEW
    takes them along, so the downgrade gives them again.
    """
    recipe = prepare(tmp_path, postgresql_url, monkeypatch)
    create, replace = (example_revision(f) for f in RECIPES["view"])
    owner, _ = seed_users(recipe, ["Ada Lovelace", "Other"])
    seed_projects(recipe, ["Engine", "Notes"], owner=owner)
    recipe.install(*RECIPES["view"])
    name, password = app_role
    as_app = postgresql_url.set(username=name, password=password)
    read = "SELECT project_name FROM project_owners ORDER BY project_name"

    recipe.upgrade(create)
    recipe.run(f"GRANT SELECT ON project_owners TO {name} WITH GRANT OPTION")
    assert fetch(as_app, read) == [("Engine",), ("Notes",)]

    recipe.upgrade(replace)
    assert fetch(as_app, read) == [("Engine",), ("Notes",)]

    recipe.downgrade(create)
    assert fetch(as_app, read) == [("Engine",), ("Notes",)]
    assert recipe.rows(
        "SELECT privilege_type, is_grantable FROM information_schema.role_table_grants "
        f"WHERE table_name = 'project_owners' AND grantee = '{name}'"
    ) == [("SELECT", "YES")]
    with pytest.raises(DBAPIError, match="permission denied for table"):
        fetch(as_app, "SELECT count(*) FROM projects")  # the view is all it may read


def test_view_downgrade_renders_offline(
    postgresql_url: URL, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The grant-keeping DO block is plain SQL: `alembic downgrade --sql` prints it."""
    recipe = prepare(tmp_path, postgresql_url, monkeypatch)
    create, replace = (example_revision(f) for f in RECIPES["view"])
    recipe.install(*RECIPES["view"])
    buffer = io.StringIO()
    recipe.config.output_buffer = buffer
    command.downgrade(recipe.config, f"{replace}:{create}", sql=True)
    sql = " ".join(buffer.getvalue().split())
    assert "DO $$ DECLARE grants text[];" in sql
    assert "format('GRANT %s ON project_owners TO %s%s'" in sql
    assert "DROP VIEW project_owners; CREATE VIEW project_owners AS SELECT" in sql


# Every recipe: documented, self-contained, and passed by the safety checker ----------

EXAMPLE_FILES = sorted(str(p.relative_to(EXAMPLES)) for p in EXAMPLES.rglob("*.py"))


def test_every_example_is_tested() -> None:
    tested = sorted(name for files in RECIPES.values() for name in files)
    assert tested == EXAMPLE_FILES


@pytest.mark.parametrize("name", EXAMPLE_FILES)
def test_recipe_documents_itself(name: str) -> None:
    source = (EXAMPLES / name).read_text()
    docstring = ast.get_docstring(ast.parse(source)) or ""
    for section in ("When to use", "Cost", "Dialects", "Downgrade"):
        assert f"{section}" in docstring, f"{name}: the docstring says nothing on {section!r}"
    assert f"Revision ID: {example_revision(name)}" in docstring
    # Data migrations describe the columns they need; application models move on.
    assert not re.search(r"^\s*(from|import) models\b", source, re.M)
    down = DOWN_REVISION_LINE.search(source)
    if down and down[2] == PLACEHOLDER_HEAD:
        assert "down_revision to your own head" in " ".join(docstring.split())


def test_revision_ids_are_unique() -> None:
    ids = [example_revision(name) for name in EXAMPLE_FILES]
    assert len(set(ids)) == len(ids)


def test_safety_checker_passes_on_every_recipe() -> None:
    result = run_checker("examples", "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout) == []


def test_suppressions_in_recipes_are_load_bearing(tmp_path: Path) -> None:
    """Without its suppression comment, a recipe's deliberate unsafe step is reported."""
    suppressed = [n for n in EXAMPLE_FILES if "# check: ignore[" in (EXAMPLES / n).read_text()]
    assert suppressed
    for name in suppressed:
        bare = tmp_path / Path(name).name
        lines = (EXAMPLES / name).read_text().splitlines(keepends=True)
        bare.write_text("".join(line for line in lines if "# check: ignore[" not in line))
    result = run_checker(*(str(tmp_path / Path(n).name) for n in suppressed), "--format", "json")
    assert result.returncode == 1, result.stderr
    assert {Path(f["file"]).name for f in json.loads(result.stdout)} == {
        Path(n).name for n in suppressed
    }


# references/recipes.md: a section per recipe, exact excerpts, working links -------------

FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.DOTALL | re.MULTILINE)
NAMED_FILE = re.compile(r"^#\s*(?P<path>[\w./-]+\.py)\s*$")


def test_recipes_md_excerpts_are_exact() -> None:
    named = 0
    for block in FENCE.findall(RECIPES_MD.read_text()):
        first, _, rest = block.partition("\n")
        match = NAMED_FILE.match(first)
        if match:
            named += 1
            assert rest.strip(), f"empty excerpt of {match['path']}"
            assert rest in (PROJECT_DIR / match["path"]).read_text(), f"differs: {match['path']}"
    assert named >= 10


def test_recipes_md_links_every_example_and_its_contents_resolve() -> None:
    text = RECIPES_MD.read_text()
    links = re.findall(r"\]\(\.\./(examples/[^)]*)\)", text)
    assert all((PROJECT_DIR / link).exists() for link in links), links
    top_level = {p.name for p in EXAMPLES.iterdir() if not p.name.startswith((".", "_"))}
    assert top_level <= {Path(link).name for link in links}
    headings = re.findall(r"^## (.+)$", text, re.M)
    anchors = {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}
    assert set(re.findall(r"\]\(#([\w-]+)\)", text)) == anchors - {"contents"}
