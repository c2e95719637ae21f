"""Recipe 14: rolling a release back, three ways, each against the command lines a deploy runs.

Release N is the project as it is (the test's project copy); release N+1 adds
the recipe's revisions 1 and 2; the roll-forward release adds revision 3. Each
release is its own project copy, so a command run "from release N" sees only
release N's alembic/versions. Release N's code is stood for by its SQL, which
never names the columns release N+1 added.
"""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

from alembic import command
from alembic.config import Config
from cookbook import Recipe, fails, seed_projects, seed_users, user_id
from project import (
    RECIPES,
    alembic,
    alembic_environment,
    copy_project,
    example_revision,
    install_revisions,
    python_executable,
    url_text,
)

EXPAND, BREAKING, ROLL_FORWARD = RECIPES["rollback"]
OLD_INSERT_USER = "INSERT INTO users (id, email, name) VALUES (:id, :email, :name)"
OLD_INSERT_PROJECT = "INSERT INTO projects (id, name, owner_id) VALUES (:id, :name, NULL)"
OLD_SELECT_USERS = "SELECT id, email, name FROM users ORDER BY id"
NEW_INSERT_PROJECT = (
    "INSERT INTO projects (id, name, owner_id, visibility) VALUES (:id, :name, NULL, 'public')"
)
NOT_NULL_VISIBILITY = ('null value in column "visibility"', "NOT NULL constraint failed")
NO_VISIBILITY = (
    'column "visibility" of relation "projects" does not exist',
    "table projects has no column named visibility",
)


def release(recipe: Recipe, tmp_path: Path, name: str, *files: str) -> Path:
    """A checkout of a newer release: the project plus some of the recipe's files."""
    project = copy_project(tmp_path / name)
    install_revisions(project, recipe.base, *files)
    return project


def run(project: Path, recipe: Recipe, command: str) -> subprocess.CompletedProcess[str]:
    """`alembic ...` or `python migrate.py ready`, typed in ``project``'s checkout."""
    env = {"DATABASE_URL": url_text(recipe.url)}
    if command.startswith("alembic "):
        return alembic(project, command, env)
    return subprocess.run(
        [python_executable(), *command.split()[1:]],
        cwd=project,
        env=alembic_environment(**env),
        capture_output=True,
        text=True,
    )


def upgrade(project: Path) -> None:
    """`alembic upgrade head` from a release's checkout, in this process (DATABASE_URL is set)."""
    config = Config(project / "alembic.ini", stdout=io.StringIO())
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_app_only_rollback_runs_old_code_on_an_expand_only_schema(
    recipe: Recipe, tmp_path: Path
) -> None:
    """Path 1: release N, redeployed on release N+1's schema, is ready and works."""
    old = recipe.project
    new = release(recipe, tmp_path, "release_n1", EXPAND)
    expand = example_revision(EXPAND)
    ada, grace = seed_users(recipe, ["Ada", "Grace"])
    upgrade(new)
    recipe.run(
        "INSERT INTO users (id, email, name, locale) VALUES (:id, 'b@example.com', 'Bea', 'de')",
        [{"id": user_id(3)}],
    )

    assert ok(run(old, recipe, "python migrate.py ready")) == (
        f"ready: the database is at {expand}, which this code does not know "
        "(a newer release migrated it)\n"
    )
    startup = run(old, recipe, "alembic upgrade head")  # release N's startup migration
    assert startup.returncode == 0, startup.stderr
    assert "which this code does not know (a newer release migrated it); not migrating" in (
        startup.stderr
    )
    assert recipe.current() == expand
    recipe.run(OLD_INSERT_USER, [{"id": user_id(4), "email": "d@example.com", "name": "Dan"}])
    recipe.run(OLD_INSERT_PROJECT, [{"id": user_id(1001), "name": "Old code's project"}])
    assert recipe.rows(OLD_SELECT_USERS) == [
        (ada, "user1@example.com", "Ada"),
        (grace, "user2@example.com", "Grace"),
        (user_id(3), "b@example.com", "Bea"),
        (user_id(4), "d@example.com", "Dan"),
    ]
    assert recipe.rows("SELECT locale FROM users ORDER BY id") == [
        ("en",),
        ("en",),
        ("de",),
        ("en",),
    ]


def test_schema_downgrade_runs_with_the_newer_releases_scripts(
    recipe: Recipe, tmp_path: Path
) -> None:
    """Path 2: release N cannot downgrade what it does not know; release N+1 can.

    Only the breaking revision is undone: release N runs on the expand-only
    revision below it, and the locales written meanwhile stay.
    """
    old = recipe.project
    new = release(recipe, tmp_path, "release_n1", EXPAND, BREAKING)
    expand, breaking = example_revision(EXPAND), example_revision(BREAKING)
    ada, grace = seed_users(recipe, ["Ada", "Grace"])
    (engine,) = seed_projects(recipe, ["Engine"], owner=ada)
    upgrade(new)
    recipe.run(NEW_INSERT_PROJECT, [{"id": user_id(1002), "name": "Public notes"}])
    recipe.run("UPDATE users SET locale = 'fr' WHERE id = :id", [{"id": grace}])
    with fails(*NOT_NULL_VISIBILITY):  # why release N cannot simply come back
        recipe.run(OLD_INSERT_PROJECT, [{"id": user_id(1003), "name": "Old code's project"}])

    from_old = run(old, recipe, "alembic downgrade -1")
    assert from_old.returncode != 0
    assert f"Can't locate revision identified by '{breaking}'" in from_old.stderr
    assert recipe.current() == breaking

    ok(run(new, recipe, f"alembic downgrade {expand}"))
    assert ok(run(new, recipe, "alembic current")).split() == [expand]

    assert "visibility" not in recipe.columns("projects")  # 'public' is lost, as documented
    assert recipe.rows("SELECT id, name, owner_id FROM projects ORDER BY id") == [
        (engine, "Engine", ada),
        (user_id(1002), "Public notes", None),
    ]
    assert recipe.rows("SELECT id, locale FROM users ORDER BY id") == [(ada, "en"), (grace, "fr")]
    # Until release N is out, release N+1's pods still serve, and their inserts fail.
    with fails(*NO_VISIBILITY):
        recipe.run(NEW_INSERT_PROJECT, [{"id": user_id(1004), "name": "New code's project"}])
    recipe.run(OLD_INSERT_PROJECT, [{"id": user_id(1003), "name": "Old code's project"}])
    assert ok(run(old, recipe, "python migrate.py ready")) == (
        f"ready: the database is at {expand}, which this code does not know "
        "(a newer release migrated it)\n"
    )


def test_roll_forward_keeps_what_the_newer_release_wrote(recipe: Recipe, tmp_path: Path) -> None:
    """Path 3: a new revision makes release N work again; a downgrade would lose data."""
    old = recipe.project
    new = release(recipe, tmp_path, "release_n1", EXPAND, BREAKING)
    fixed = release(recipe, tmp_path, "roll_forward", EXPAND, BREAKING, ROLL_FORWARD)
    roll_forward = example_revision(ROLL_FORWARD)
    (ada,) = seed_users(recipe, ["Ada"])
    (engine,) = seed_projects(recipe, ["Engine"], owner=ada)
    upgrade(new)
    recipe.run("UPDATE projects SET visibility = 'public' WHERE id = :id", [{"id": engine}])
    recipe.run("UPDATE users SET locale = 'fr' WHERE id = :id", [{"id": ada}])
    with fails(*NOT_NULL_VISIBILITY):
        recipe.run(OLD_INSERT_PROJECT, [{"id": user_id(1002), "name": "Old code's project"}])

    upgrade(fixed)

    recipe.run(OLD_INSERT_PROJECT, [{"id": user_id(1002), "name": "Old code's project"}])
    assert recipe.rows("SELECT name, visibility FROM projects ORDER BY id") == [
        ("Engine", "public"),  # what release N+1 wrote survives
        ("Old code's project", "private"),
    ]
    assert recipe.rows("SELECT locale FROM users") == [("fr",)]
    assert ok(run(old, recipe, "python migrate.py ready")) == (
        f"ready: the database is at {roll_forward}, which this code does not know "
        "(a newer release migrated it)\n"
    )

    # The downgrade this replaced: back to release N's head, 'public' and 'fr' are gone.
    ok(run(fixed, recipe, f"alembic downgrade {recipe.base}"))
    assert "visibility" not in recipe.columns("projects")
    assert "locale" not in recipe.columns("users")
    assert recipe.rows("SELECT name FROM projects ORDER BY id") == [
        ("Engine",),
        ("Old code's project",),
    ]
    upgrade(fixed)  # and up again
    assert recipe.rows("SELECT visibility FROM projects ORDER BY id") == [
        ("private",),
        ("private",),
    ]
