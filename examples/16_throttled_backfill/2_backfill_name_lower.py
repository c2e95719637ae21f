"""projects.name_lower, step 2 of 2: a throttled backfill that watches WAL and replicas

When to use: a backfill on a big table of a primary with streaming replicas,
where plain batches would still write WAL faster than a standby replays it, or
saturate the disk. Batches by id range, each committed on its own, only rows
still NULL (as in recipe 08, examples/08_resumable_backfill.py); a rerun starts
just below the lowest id still NULL. It makes one pass: the release deployed
before it writes name_lower on every insert and rename, so no NULL appears
behind the cursor (recipe 08 makes further passes for that). Progress is rows
and WAL per batch, not a percentage (no count over the table). It adds what a
busy primary needs:

* A pause between batches (``-x backfill_pause_ms=``, default 100): the
  backfill yields I/O, and standbys get time to catch up.
* Before each batch (PostgreSQL), the replay lag of every walsender that
  reports a replay position, read on the primary from ``pg_stat_replication``:
  bytes between ``pg_current_wal_lsn()`` and ``replay_lsn``, and
  ``replay_lag``. Walsenders whose ``replay_lsn`` is NULL replay nothing
  (pg_receivewal, Barman's streaming, a pg_basebackup in progress): they are
  skipped, and logged once. ``-x ignore_standbys=a,b`` skips others by
  application_name (a logical subscriber, say). While a standby is further
  behind than ``-x max_lag_bytes=`` (default 16 MiB) or ``-x
  max_lag_seconds=`` (default 10), it pauses and logs; after ``-x
  lag_wait_seconds=`` (default 600) it stops with an error. Committed batches
  stay: rerun to continue. Reading standbys' positions takes superuser or
  ``pg_read_all_stats``; without it they read as NULL and the backfill stops
  at once, saying so. Invisible here: a disconnected standby whose slot keeps
  WAL (see pg_replication_slots), a cascading standby (its lag shows on the
  standby it streams from), and managed services whose pg_stat_replication is
  empty.
* WAL per batch (PostgreSQL): ``pg_current_wal_lsn()`` before and after each
  batch, ``pg_wal_lsn_diff()`` between them, logged per batch and in total,
  with bytes per row. The figure is the server's WAL in that interval: other
  sessions' writes count too.
* ``-x vacuum_every_batches=N`` (PostgreSQL; default 0, off): ``VACUUM
  (TRUNCATE false) projects`` after every N batches, so later batches reuse
  the space of the row versions earlier ones left dead, instead of the table
  growing. Each VACUUM reads the pages changed since the last one and, when
  it removes dead row versions, every index of the table in full.
* ``VACUUM (ANALYZE, TRUNCATE false) projects`` at the end (PostgreSQL),
  every time the revision runs, even when it changed no row (the rerun after a
  VACUUM that failed). It makes the dead row versions' space reusable by
  future writes and gives the planner statistics on the new column; it does
  not shrink a table that already grew. TRUNCATE false: no ACCESS EXCLUSIVE
  to cut empty pages off the end, which standbys would replay too.
  VACUUM runs in ``autocommit_block()`` (it cannot run in a transaction).

Cost: one short UPDATE per batch, plus the pauses; VACUUM reads the table
under SHARE UPDATE EXCLUSIVE (reads and writes go on; other DDL, and another
VACUUM, wait). statement_timeout (1h in env.py) bounds each VACUUM: on a huge
table raise it (``-x statement_timeout=0``). Batch size: ``-x batch_size=``
(default 5000).

Dialects: PostgreSQL and SQLite. On SQLite: batches and pauses only (no WAL
positions, replicas or VACUUM statistics of this kind).

Downgrade: does nothing; revision 1's downgrade drops the column.

Revision ID: d5c6ffb8f70f
Revises: 2f61310098fd
Create Date: 2026-12-02 11:00:00.000000

"""

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from alembic import context, op
from alembic.util import CommandError

# revision identifiers, used by Alembic.
revision: str = "d5c6ffb8f70f"
down_revision: str | Sequence[str] | None = "2f61310098fd"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH_SIZE = 5000
SETTINGS = {
    "backfill_pause_ms": 100.0,
    "max_lag_bytes": 16 * 1024 * 1024.0,
    "max_lag_seconds": 10.0,
    "lag_wait_seconds": 600.0,
    "vacuum_every_batches": 0.0,
}
LAG_POLL_SECONDS = 1.0

log = logging.getLogger("alembic.backfill")

FIRST_PENDING = sa.text("SELECT min(id) FROM projects WHERE name_lower IS NULL")
ID_BEFORE = sa.text("SELECT max(id) FROM projects WHERE id < :first_pending")
NEXT_BATCH_END = sa.text(
    "SELECT max(id) FROM "
    "(SELECT id FROM projects WHERE id > :after ORDER BY id LIMIT :batch_size) AS batch"
)
FILL_BATCH = sa.text(
    "UPDATE projects SET name_lower = lower(name) "
    "WHERE id > :after AND id <= :through AND name_lower IS NULL"
)
WAL_POSITION = sa.text("SELECT CAST(pg_current_wal_lsn() AS text)")
WAL_BYTES_SINCE = sa.text(
    "SELECT CAST(pg_wal_lsn_diff(pg_current_wal_lsn(), CAST(CAST(:since AS text) AS pg_lsn)) "
    "AS bigint)"
)
FLUSH_STATISTICS = sa.text("SELECT pg_stat_force_next_flush()")  # PostgreSQL 15+
DEAD_ROWS = sa.text("SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'projects'")
# One row per walsender of this server. Without pg_read_all_stats, everything
# but the pid reads as NULL, state included. replay_lsn is NULL for a client
# that replays nothing (pg_receivewal, a base backup): lag_bytes NULL.
STANDBY_LAG = sa.text(
    "SELECT application_name, state, "
    "CAST(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) AS bigint) AS lag_bytes, "
    "extract(epoch FROM replay_lag) AS lag_seconds "
    "FROM pg_stat_replication ORDER BY application_name"
)


@dataclass
class Limits:
    pause_ms: float
    max_lag_bytes: float
    max_lag_seconds: float
    lag_wait_seconds: float
    vacuum_every_batches: float
    ignore: frozenset[str] = frozenset()


def limits() -> Limits:
    """SETTINGS, each replaced by ``-x name=value`` when given."""
    given = context.get_x_argument(as_dictionary=True)
    values = [float(given.get(name, default)) for name, default in SETTINGS.items()]
    ignore = frozenset(n for n in given.get("ignore_standbys", "").split(",") if n)
    return Limits(*values, ignore=ignore)


def batch_size() -> int:
    return int(context.get_x_argument(as_dictionary=True).get("batch_size", BATCH_SIZE))


def lagging_standbys(bind: sa.Connection, limit: Limits, noted: set[str]) -> list[str]:
    """Each standby further behind than the limits, described; [] when none is.

    Walsenders that replay nothing, or named in ignore_standbys, are skipped and
    logged once (``noted`` holds those already logged).
    """
    behind = []
    for name, state, lag_bytes, lag_seconds in bind.execute(STANDBY_LAG):
        if state is None:
            raise CommandError(
                "backfill projects.name_lower: cannot read the standbys' replay positions "
                "(pg_stat_replication shows NULL): GRANT pg_read_all_stats TO the migration role"
            )
        if lag_bytes is None or name in limit.ignore:
            if name not in noted:
                noted.add(name)
                why = (
                    "ignored (ignore_standbys)"
                    if name in limit.ignore
                    else ("not a replaying standby")
                )
                log.info("backfill projects.name_lower: %s: %s (%s)", why, name, state)
            continue
        seconds = float(lag_seconds or 0)  # NULL once a standby has caught up and idles
        if lag_bytes > limit.max_lag_bytes or seconds > limit.max_lag_seconds:
            behind.append(f"{name} ({state}) {lag_bytes} bytes, {seconds:.1f}s behind")
    return behind


def wait_for_standbys(bind: sa.Connection, limit: Limits, noted: set[str]) -> None:
    """Return once every standby is within the limits; give up after lag_wait_seconds."""
    deadline = time.monotonic() + limit.lag_wait_seconds
    while behind := lagging_standbys(bind, limit, noted):
        if time.monotonic() >= deadline:
            raise CommandError(
                f"backfill projects.name_lower: standby still behind after "
                f"{limit.lag_wait_seconds:g}s: {'; '.join(behind)} (max_lag_bytes="
                f"{limit.max_lag_bytes:.0f}, max_lag_seconds={limit.max_lag_seconds:g}). "
                "The committed batches stay; rerun once the standby has caught up."
            )
        log.info("backfill projects.name_lower: pausing, standby behind: %s", "; ".join(behind))
        time.sleep(LAG_POLL_SECONDS)


def start_after(bind: sa.Connection) -> str | None:
    """The id just below the first NULL name_lower; None when no row is left to do."""
    first_pending = bind.execute(FIRST_PENDING).scalar()
    if first_pending is None:
        return None
    # Finished ranges below it are not walked again. String ids start after ''
    # (integer keys: 0).
    return bind.execute(ID_BEFORE, {"first_pending": first_pending}).scalar() or ""


def backfill(bind: sa.Connection, limit: Limits, size: int) -> int:
    """Fill every NULL name_lower by id range, from the first one on; return rows changed."""
    postgresql = bind.dialect.name == "postgresql"
    every = int(limit.vacuum_every_batches)
    done, wal_total, batches, noted = 0, 0, 0, set[str]()
    after = start_after(bind)
    if after is None:
        log.info("backfill projects.name_lower: no rows left to do")
    while after is not None:
        if batches:  # not before the first batch
            time.sleep(limit.pause_ms / 1000)
            if postgresql and every and batches % every == 0:
                # Outside a transaction, as VACUUM requires: later batches reuse the space.
                op.execute("VACUUM (TRUNCATE false) projects")
                log.info("backfill projects.name_lower: VACUUM projects after %d batches", batches)
        if postgresql:
            wait_for_standbys(bind, limit, noted)
        through = bind.execute(NEXT_BATCH_END, {"after": after, "batch_size": size}).scalar()
        if through is None:
            break
        batches += 1
        since = bind.execute(WAL_POSITION).scalar_one() if postgresql else None
        rows = bind.execute(FILL_BATCH, {"after": after, "through": through}).rowcount
        done += rows
        after = through
        if since is not None:
            wal = int(bind.execute(WAL_BYTES_SINCE, {"since": since}).scalar_one())
            wal_total += wal
            log.info(
                "backfill projects.name_lower: %d rows, %d WAL bytes; pausing %.0f ms",
                rows,
                wal,
                limit.pause_ms,
            )
        else:
            log.info("backfill projects.name_lower: %d rows; pausing %.0f ms", rows, limit.pause_ms)
    if postgresql:
        log.info(
            "backfill projects.name_lower: %d rows in total, %d WAL bytes (%.0f bytes/row)",
            done,
            wal_total,
            wal_total / max(done, 1),
        )
    return done


def upgrade() -> None:
    """Fill name_lower in throttled, committed batches; then VACUUM (ANALYZE) projects."""
    with op.get_context().autocommit_block():  # every batch commits on its own
        bind = op.get_bind()
        backfill(bind, limits(), batch_size())
        # Every run, even one that changed no row: a rerun after a failed VACUUM vacuums.
        if bind.dialect.name == "postgresql":
            vacuum_analyze(bind)


def vacuum_analyze(bind: sa.Connection) -> None:
    """VACUUM (ANALYZE) projects, logging its dead row versions before and after.

    A session's own counts reach pg_stat_user_tables up to a second or more
    after its statements; flushed only after the VACUUM, they would add the
    dead row versions it removed back to n_dead_tup. So they are flushed first.
    """
    bind.execute(FLUSH_STATISTICS)  # applied as the session goes idle, before the next
    dead_before = bind.execute(DEAD_ROWS).scalar_one()
    # Outside a transaction, as VACUUM requires: dead row versions out, statistics in.
    op.execute("VACUUM (ANALYZE, TRUNCATE false) projects")
    dead_after = bind.execute(DEAD_ROWS).scalar_one()
    log.info(
        "backfill projects.name_lower: VACUUM (ANALYZE) projects: dead row versions %d -> %d",
        dead_before,
        dead_after,
    )


def downgrade() -> None:
    """Nothing to undo: revision 1's downgrade drops the column."""
