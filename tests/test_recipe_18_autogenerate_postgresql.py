"""Recipe 18: autogenerate against PostgreSQL, names over 63 bytes, objects the models
do not own, and the comparisons that make noise.

The model and the env.py hook are taken from references/recipes.md's section 18, so
the text a reader copies is the text tested.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from cookbook import RECIPES_MD, Recipe, fails, prepare
from project import RECIPES, alembic, example_revision, url_text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import URL
from sqlalchemy.exc import IdentifierError

(REVISION_FILE,) = RECIPES["autogenerate_postgresql"]
REVISION = example_revision(REVISION_FILE)
TABLE = "project_membership_invitations"
LONG_FK = "fk_project_membership_invitations_accepted_on_behalf_of_user_id_users"
LONG_UQ = "uq_project_membership_invitations_invitee_email_address_normalized"
SHORT_FK = "fk_project_membership_invitations_accepted_on_behalf_of_37ca"
SHORT_UQ = "uq_project_membership_invitations_invitee_email_address_56ab"
CONSTRAINTS = f"SELECT conname FROM pg_constraint WHERE conrelid = '{TABLE}'::regclass"


def section_blocks() -> list[str]:
    """The plain ```python blocks of section 18 (not excerpts of a file)."""
    text = RECIPES_MD.read_text()
    section = text.split("\n## 18. ", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^```python\n(.*?)^```", section, re.S | re.M)


def section_block(starting: str) -> str:
    """The block whose code, after its "# add to FILE" line, starts with ``starting``."""
    (block,) = (b for b in section_blocks() if b.partition("\n")[2].startswith(starting))
    return block


def add_model(recipe: Recipe, model: str | None = None) -> None:
    """Append the section's model (or ``model``) to the project copy's models.py."""
    models = recipe.project / "models.py"
    block = model or section_block("from typing import Any")
    models.write_text(models.read_text() + "\n\n" + block)


def add_hook(recipe: Recipe, include_schemas: bool = False) -> None:
    """Put the section's include_name hook into the copy's env.py, and pass it on."""
    env = recipe.project / "alembic" / "env.py"
    source = env.read_text()
    wiring = '"compare_server_default": True,\n        "include_name": include_name,'
    if include_schemas:
        wiring += '\n        "include_schemas": True,'
    source = source.replace('"compare_server_default": True,', wiring, 1)
    block = section_block("NOT_OURS")
    source = source.replace("def configure_options(", block + "\n\ndef configure_options(", 1)
    env.write_text(source)


def check(recipe: Recipe) -> str:
    """`alembic check` in the copy, as typed (a fresh process imports its models.py):
    "" when clean, else what it printed."""
    done = alembic(recipe.project, "alembic check", env={"DATABASE_URL": url_text(recipe.url)})
    return "" if done.returncode == 0 else done.stdout + done.stderr


def autogenerate(recipe: Recipe) -> str:
    """`alembic revision --autogenerate`; the new file's source."""
    before = set(recipe.versions.glob("*.py"))
    done = alembic(
        recipe.project,
        "alembic revision --autogenerate -m invitations",
        env={"DATABASE_URL": url_text(recipe.url)},
    )
    assert done.returncode == 0, done.stderr
    (new,) = set(recipe.versions.glob("*.py")) - before
    return new.read_text()


def test_up_and_down_on_postgresql_and_check_is_clean(postgresql_recipe: Recipe) -> None:
    recipe = postgresql_recipe
    add_model(recipe)
    recipe.install(REVISION_FILE)
    recipe.run("INSERT INTO users (id, email, name) VALUES ('u1', 'ada@example.com', 'Ada')")
    recipe.run("INSERT INTO projects (id, name, owner_id) VALUES ('p1', 'Apollo', 'u1')")

    recipe.upgrade(REVISION)
    assert check(recipe) == ""
    assert sorted(n for (n,) in recipe.rows(CONSTRAINTS) if not n.endswith("_not_null")) == [
        SHORT_FK,
        "fk_project_membership_invitations_project_id_projects",
        "pk_project_membership_invitations",
        SHORT_UQ,
    ]
    recipe.run(
        f"INSERT INTO {TABLE} (id, project_id, accepted_on_behalf_of_user_id, "
        "invitee_email_address_normalized) VALUES ('i1', 'p1', 'u1', 'grace@example.com')"
    )
    assert recipe.rows(f"SELECT id, details FROM {TABLE}") == [("i1", {})]
    with fails(SHORT_UQ):
        recipe.run(
            f"INSERT INTO {TABLE} (id, project_id, invitee_email_address_normalized) "
            "VALUES ('i2', 'p1', 'grace@example.com')"
        )

    recipe.downgrade()  # the invitations go with the table
    assert recipe.rows(f"SELECT to_regclass('{TABLE}')") == [(None,)]
    assert recipe.rows("SELECT id FROM users") == [("u1",)]
    assert recipe.rows("SELECT id, owner_id FROM projects") == [("p1", "u1")]


def test_autogenerate_against_postgresql_gives_the_recipe_and_sqlite_does_not(
    postgresql_url: URL, sqlite_url: URL, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pg").mkdir()
    (tmp_path / "sqlite").mkdir()
    on_postgresql = prepare(tmp_path / "pg", postgresql_url, monkeypatch)
    add_model(on_postgresql)
    generated = autogenerate(on_postgresql)
    assert f'op.f("{LONG_FK}")' in generated  # whole in the file, shortened by SQLAlchemy
    assert "batch_alter_table" not in generated
    assert 'server_default=sa.text("now()")' in generated
    on_postgresql.upgrade()
    names = {n for (n,) in on_postgresql.rows(CONSTRAINTS)}
    assert {SHORT_FK, SHORT_UQ} <= names  # what the recipe's revision names
    assert check(on_postgresql) == ""

    on_sqlite = prepare(tmp_path / "sqlite", sqlite_url, monkeypatch)
    add_model(on_sqlite)
    generated = autogenerate(on_sqlite)
    assert "batch_alter_table" in generated
    assert 'server_default=sa.text("(CURRENT_TIMESTAMP)")' in generated
    assert "postgresql.JSONB(astext_type=Text())" in generated  # Text is never imported


def test_include_name_leaves_tables_the_models_do_not_own(postgresql_recipe: Recipe) -> None:
    recipe = postgresql_recipe
    recipe.run("CREATE TABLE spatial_ref_sys (srid integer PRIMARY KEY, srtext text)")
    recipe.run("CREATE TABLE billing_invoices (id integer PRIMARY KEY)")
    assert "remove_table" in check(recipe)
    assert "spatial_ref_sys" in check(recipe) and "billing_invoices" in check(recipe)

    add_hook(recipe)
    assert check(recipe) == ""


def test_include_name_chooses_the_schemas(postgresql_recipe: Recipe) -> None:
    recipe = postgresql_recipe
    recipe.run("CREATE SCHEMA reporting")
    recipe.run("CREATE TABLE reporting.daily_totals (day date PRIMARY KEY)")
    recipe.run("CREATE TABLE spatial_ref_sys (srid integer PRIMARY KEY)")
    add_hook(recipe, include_schemas=True)
    assert check(recipe) == ""

    without_filter = recipe.project / "alembic" / "env.py"
    source = without_filter.read_text()
    without_filter.write_text(source.replace('if type_ == "schema":', "if False:", 1))
    found = check(recipe)
    assert "daily_totals" in found and "spatial_ref_sys" not in found


EVENTS_MODEL = """
from datetime import date

from sqlalchemy import Date, Integer


class Event(Base):
    __tablename__ = "events"
    __table_args__ = {"postgresql_partition_by": "RANGE (day)"}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
"""


def test_partitions_are_proposed_for_dropping_even_of_a_described_table(
    postgresql_recipe: Recipe,
) -> None:
    """Partitions of billing_events (no model) and of events (a model with
    postgresql_partition_by): every partition is a table no model describes."""
    recipe = postgresql_recipe
    recipe.run("CREATE TABLE billing_events (id int, at date) PARTITION BY RANGE (at)")
    recipe.run(
        "CREATE TABLE billing_events_2020 PARTITION OF billing_events "
        "FOR VALUES FROM ('2020-01-01') TO ('2021-01-01')"
    )
    recipe.run(
        "CREATE TABLE events (id integer NOT NULL, day date NOT NULL, "
        "CONSTRAINT pk_events PRIMARY KEY (id, day)) PARTITION BY RANGE (day)"
    )
    recipe.run("CREATE INDEX ix_events_day ON events (day)")
    for year in (2019, 2020):
        recipe.run(
            f"CREATE TABLE events_{year} PARTITION OF events "
            f"FOR VALUES FROM ('{year}-01-01') TO ('{year + 1}-01-01')"
        )
    add_model(recipe, EVENTS_MODEL)
    found = check(recipe)
    removed = set(re.findall(r"remove_table', Table\('(\w+)'", found))
    assert removed == {"billing_events", "billing_events_2020", "events_2019", "events_2020"}
    assert "remove_index', Index('events_2019_day_idx'" in found  # each partition's index too
    add_hook(recipe)  # NOT_OURS names billing_\w+ and events_\d{4}
    assert check(recipe) == ""


def test_long_names_explicit_truncated_and_shortened(postgresql_recipe: Recipe) -> None:
    recipe = postgresql_recipe
    # An explicit name over 63: refused before any SQL runs.
    table = sa.Table(
        "t", sa.MetaData(), sa.Column("a", sa.Integer), sa.UniqueConstraint("a", name="u" * 64)
    )
    with pytest.raises(IdentifierError, match="exceeds maximum length of 63 characters"):
        str(sa.schema.CreateTable(table).compile(dialect=postgresql.dialect()))

    # The table as raw SQL with the convention's names: PostgreSQL truncates them at 63.
    recipe.run(
        f"CREATE TABLE {TABLE} (id varchar(36) PRIMARY KEY, "
        "project_id varchar(36) NOT NULL REFERENCES projects (id), "
        "accepted_on_behalf_of_user_id varchar(36), "
        "invitee_email_address_normalized varchar(255) NOT NULL, "
        "details jsonb NOT NULL DEFAULT '{}'::jsonb, "
        "created_at timestamptz NOT NULL DEFAULT now(), "
        f"CONSTRAINT {LONG_FK} FOREIGN KEY (accepted_on_behalf_of_user_id) REFERENCES users (id), "
        f"CONSTRAINT {LONG_UQ} UNIQUE (invitee_email_address_normalized))"
    )
    recipe.run(f"CREATE INDEX ix_{TABLE}_project_id ON {TABLE} (project_id)")
    names = {n for (n,) in recipe.rows(CONSTRAINTS)}
    assert LONG_UQ[:63] in names and SHORT_UQ not in names
    add_model(recipe)
    for _ in range(2):  # noise: the same report on every run
        found = check(recipe)
        assert "remove_constraint" in found and "add_constraint" in found
        assert LONG_UQ[:63] in found


SETTING_MODEL = """
from sqlalchemy import Integer
from sqlalchemy.dialects.postgresql import {type_}


class Setting(Base):
    __tablename__ = "settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    doc: Mapped[dict[str, str]] = mapped_column({type_}, server_default="{{}}")
"""


VARIANT_MODEL = """
from sqlalchemy import JSON


class VariantSetting(Base):
    __tablename__ = "variant_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    doc: Mapped[dict[str, str]] = mapped_column(
        JSON().with_variant(JSONB, "postgresql"), server_default="{}"
    )
"""


@pytest.mark.parametrize("type_", ["JSON", "JSONB"])
def test_a_json_server_default_breaks_check_and_jsonb_does_not(
    postgresql_recipe: Recipe, type_: str
) -> None:
    """JSONB's case also has a table whose model says JSON().with_variant(JSONB, ...)."""
    recipe = postgresql_recipe
    recipe.run(
        f"CREATE TABLE settings (id integer PRIMARY KEY, doc {type_} NOT NULL DEFAULT '{{}}')"
    )
    model = SETTING_MODEL.format(type_=type_)
    if type_ == "JSONB":
        recipe.run(
            "CREATE TABLE variant_settings (id integer PRIMARY KEY, "
            "doc jsonb NOT NULL DEFAULT '{}')"
        )
        model += "\n" + VARIANT_MODEL
    add_model(recipe, model)
    found = check(recipe)
    if type_ == "JSON":
        assert "operator does not exist: json = unknown" in found
    else:
        assert found == ""


QUIET_MODEL = """
from decimal import Decimal

from sqlalchemy import ARRAY, Boolean, Enum, Index, Integer, Numeric, false
from sqlalchemy.dialects.postgresql import JSONB


class Quiet(Base):
    __tablename__ = "quiet"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(
        Enum("active", "archived", name="quiet_status"), server_default="active"
    )
    flag: Mapped[bool] = mapped_column(Boolean, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    role: Mapped[str] = mapped_column(String(20), server_default="member")
    amount: Mapped[Decimal] = mapped_column(Numeric(10, 2), server_default="0")
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(20)), server_default="{}")
    doc: Mapped[dict[str, str]] = mapped_column(JSONB, server_default="{}")

    __table_args__ = (Index("ix_quiet_lower_email", func.lower(email)),)
"""


def test_postgresql_spellings_of_the_same_defaults_are_not_noise(postgresql_recipe: Recipe) -> None:
    """The table as PostgreSQL spells it (CURRENT_TIMESTAMP, casts, an expression index)
    against the model's spellings: `alembic check` finds nothing."""
    recipe = postgresql_recipe
    recipe.run("CREATE TYPE quiet_status AS ENUM ('active', 'archived')")
    recipe.run(
        "CREATE TABLE quiet (id integer PRIMARY KEY, email varchar(255), "
        "status quiet_status NOT NULL DEFAULT 'active', flag boolean NOT NULL DEFAULT false, "
        "created_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP, "
        "role varchar(20) NOT NULL DEFAULT 'member', amount numeric(10, 2) NOT NULL DEFAULT 0, "
        "tags varchar(20)[] NOT NULL DEFAULT '{}', doc jsonb NOT NULL DEFAULT '{}')"
    )
    recipe.run("CREATE INDEX ix_quiet_lower_email ON quiet (lower(email))")
    add_model(recipe, QUIET_MODEL)
    assert check(recipe) == ""
