"""users.suspended_at and projects.suspended_at: DDL on hot tables, after a look for blockers

When to use: any ALTER on tables the application hits all the time. The ALTER
needs ACCESS EXCLUSIVE; a transaction that already holds a lock on the table
(a report, a session left idle in transaction) makes it wait, and every query
on the table queues behind the waiting ALTER until env.py's lock_timeout ends
the attempt. Retries cannot win while that transaction stays open.

What it does, before any DDL (PostgreSQL):

1. Looks for transactions older than ``blocker_age_seconds`` that hold or wait
   for a lock on the target tables (pg_locks joined to pg_stat_activity, its
   own session excluded; an idle-in-transaction session counts). Found ones
   are logged once per poll while it waits up to ``blocker_wait_seconds``;
   if they are still there, it refuses, in one line naming each pid, its
   state and age, and how to end it (``SELECT pg_terminate_backend(pid)``, or
   wait and rerun). The look runs in ``autocommit_block()``: the wait holds
   no transaction open. Settings: ``alembic -x blocker_age_seconds=5 -x
   blocker_wait_seconds=30 upgrade head`` (the defaults).
2. Takes both locks at the top of the revision's transaction, in one order,
   parent first: ``LOCK TABLE users, projects IN ACCESS EXCLUSIVE MODE``,
   bounded by env.py's lock_timeout. Application transactions that touch
   users before projects cannot deadlock with it; the opposite order can.

The look is advice, not a lock: a transaction that starts after it still
makes the LOCK wait, for lock_timeout at most. Ending such sessions for good
is the application role's ``idle_in_transaction_session_timeout`` (see
references/recipes.md, recipe 15).

Cost: one catalog query per poll; then a moment of ACCESS EXCLUSIVE on both
tables (catalog-only ADD COLUMNs, no rewrite, no scan).

Dialects: PostgreSQL; on SQLite the columns are added and the look and the
LOCK are skipped (SQLite has one write lock for the whole database, no table
locks to order).

Downgrade: drops both columns; every suspended_at value is lost. It takes the
same locks in the same order first.

To use it: copy this file into alembic/versions and set down_revision to your
own head (``alembic heads``); here it is this project's head.

Revision ID: 6d8b2cb2ccb4
Revises: 3525a8febceb
Create Date: 2026-12-02 10:00:00.000000

"""

import logging
import time
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op
from alembic.util import CommandError

# revision identifiers, used by Alembic.
revision: str = "6d8b2cb2ccb4"
down_revision: str | Sequence[str] | None = "3525a8febceb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Parent first (projects.owner_id references users): the order every
# migration and application transaction should take them in.
TABLES = ["users", "projects"]
LOCK_IN_ORDER = "LOCK TABLE users, projects IN ACCESS EXCLUSIVE MODE"
SETTINGS = {"blocker_age_seconds": 5.0, "blocker_wait_seconds": 30.0}
POLL_SECONDS = 0.5

log = logging.getLogger("alembic.lock_hygiene")

# pg_stat_activity is read once per transaction and cached (stats_fetch_consistency):
# in autocommit every poll is a transaction of its own. clock_timestamp(), not
# now(): the age at this moment.
OLD_LOCKERS = sa.text(
    "SELECT a.pid, a.state, "
    "floor(extract(epoch FROM clock_timestamp() - a.xact_start))::int AS age, "
    "string_agg(DISTINCT c.relname || CASE WHEN l.granted THEN '' ELSE ' (waiting)' END, "
    "', ') AS locks, "
    "left(a.query, 80) AS query "
    "FROM pg_locks AS l "
    "JOIN pg_stat_activity AS a ON a.pid = l.pid "
    "JOIN pg_class AS c ON c.oid = l.relation "
    "WHERE l.locktype = 'relation' "
    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND l.relation IN (SELECT to_regclass(t) FROM unnest(CAST(:tables AS text[])) AS t) "
    "AND a.pid <> pg_backend_pid() "
    "AND a.xact_start < clock_timestamp() - make_interval(secs => :age) "
    "GROUP BY a.pid, a.state, a.xact_start, a.query "
    "ORDER BY a.xact_start"
)


def setting(name: str) -> float:
    """A number from ``-x name=value``, else its default."""
    return float(context.get_x_argument(as_dictionary=True).get(name, SETTINGS[name]))


def describe(rows: Sequence[sa.Row[tuple[int, str, int, str, str]]]) -> str:
    return "; ".join(
        f"pid {pid} ({state}, transaction open {age}s, locks {locks}, query {query!r})"
        for pid, state, age, locks, query in rows
    )


def wait_for_old_lockers(bind: sa.Connection) -> None:
    """Return once no old transaction holds or waits for a lock on TABLES; else refuse."""
    age, wait = setting("blocker_age_seconds"), setting("blocker_wait_seconds")
    deadline = time.monotonic() + wait
    while True:
        rows = bind.execute(OLD_LOCKERS, {"tables": TABLES, "age": age}).all()
        if not rows:
            return
        left = deadline - time.monotonic()
        if left <= 0:
            pids = ", ".join(str(row.pid) for row in rows)
            raise CommandError(
                f"refusing to lock {', '.join(TABLES)}: {len(rows)} transaction(s) older "
                f"than {age:g}s hold or wait for locks on them: {describe(rows)}. End them "
                f"with SELECT pg_terminate_backend(pid) for pid {pids}, or wait for them to "
                f"finish and rerun (-x blocker_wait_seconds=N waits longer)."
            )
        log.info(
            "waiting for %d old transaction(s) on %s (%.0fs left): %s",
            len(rows),
            ", ".join(TABLES),
            left,
            describe(rows),
        )
        time.sleep(min(POLL_SECONDS, left))


def lock_in_order() -> None:
    """Check for blockers outside any transaction, then lock TABLES in order."""
    if op.get_context().dialect.name != "postgresql":
        return
    with op.get_context().autocommit_block():
        wait_for_old_lockers(op.get_bind())
    # The first statement of the revision's transaction: both locks before any DDL.
    op.execute(LOCK_IN_ORDER)


def upgrade() -> None:
    """Look for old lockers, lock users then projects, add the two columns."""
    lock_in_order()
    op.add_column("users", sa.Column("suspended_at", sa.DateTime(timezone=True)))
    op.add_column("projects", sa.Column("suspended_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    """Same look and lock order; drop both columns (batch mode copies them on SQLite)."""
    lock_in_order()
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("suspended_at")
    with op.batch_alter_table("projects") as batch_op:
        batch_op.drop_column("suspended_at")
