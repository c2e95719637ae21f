"""Recipe 16: a throttled backfill that logs its WAL, waits for standbys, and vacuums.

The lag test streams to a real standby started from the embedded server's own
binaries (pg_basebackup -R, then postgres with recovery_min_apply_delay), so
the replay lag the recipe reads in pg_stat_replication is real.
"""

from __future__ import annotations

import argparse
import logging
import re
import time

import pytest
from cookbook import Recipe, user_id
from project import RECIPES, example_revision

ADD, BACKFILL = RECIPES["throttled_backfill"]
ADD_REVISION, BACKFILL_REVISION = example_revision(ADD), example_revision(BACKFILL)
NAMES = [
    "Apollo",
    "Big Data LAKE",
    "mixed Case",
    "ZETA",
    "Orbit NINE",
    "x",
    "Two  Spaces",
    "Q",
    "r",
]
BATCH_ROW = re.compile(r"backfill projects\.name_lower: (\d+) rows, (\d+) WAL bytes; pausing")
TOTAL = re.compile(
    r"backfill projects\.name_lower: (\d+) rows in total, (\d+) WAL bytes \((\d+) bytes/row\)"
)


@pytest.fixture
def backfill_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="alembic.backfill")
    return caplog


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "alembic.backfill"]


def seed(recipe: Recipe) -> list[str]:
    ids = [user_id(2000 + n) for n in range(1, len(NAMES) + 1)]
    recipe.run(
        "INSERT INTO projects (id, name) VALUES (:id, :name)",
        [{"id": i, "name": n} for i, n in zip(ids, NAMES, strict=True)],
    )
    return ids


def with_settings(recipe: Recipe, **settings: object) -> None:
    recipe.config.cmd_opts = argparse.Namespace(x=[f"{k}={v}" for k, v in settings.items()])


LOWER = "SELECT id, name_lower FROM projects ORDER BY id"


def test_throttled_backfill_up_and_down(
    recipe: Recipe, backfill_log: pytest.LogCaptureFixture
) -> None:
    ids = seed(recipe)
    recipe.install(*RECIPES["throttled_backfill"])  # batches of 2: five batches
    recipe.upgrade(ADD_REVISION)
    # The new release already wrote one row; the backfill must keep it.
    recipe.run("UPDATE projects SET name_lower = 'by the app' WHERE id = :id", [{"id": ids[3]}])
    with_settings(recipe, backfill_pause_ms=150)

    started = time.monotonic()
    recipe.upgrade()
    elapsed = time.monotonic() - started
    assert recipe.current() == BACKFILL_REVISION
    expected = [(i, n.lower()) for i, n in zip(ids, NAMES, strict=True)]
    expected[3] = (ids[3], "by the app")
    assert recipe.rows(LOWER) == expected
    batches = [m for m in lines(backfill_log) if "; pausing 150 ms" in m]
    assert len(batches) == 5
    assert elapsed >= 5 * 0.15  # a pause after each batch: the throttle ran

    # Rerun-safe: back to revision 1 (nothing lost), one value cleared, up again.
    recipe.downgrade(ADD_REVISION)
    assert recipe.rows(LOWER) == expected
    recipe.run("UPDATE projects SET name_lower = NULL WHERE id = :id", [{"id": ids[0]}])
    with_settings(recipe, backfill_pause_ms=0)
    recipe.upgrade()
    assert recipe.rows(LOWER) == expected

    # Documented loss: revision 1's downgrade drops the column and its values.
    recipe.downgrade()
    assert "name_lower" not in recipe.columns("projects")
    assert recipe.rows("SELECT id, name FROM projects ORDER BY id") == list(
        zip(ids, NAMES, strict=True)
    )
