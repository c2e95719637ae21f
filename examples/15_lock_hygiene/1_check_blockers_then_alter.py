"""users.suspended_at and projects.suspended_at: DDL on hot tables, after a look for blockers

When to use: any ALTER on tables the application hits all the time. The ALTER
needs ACCESS EXCLUSIVE; a transaction that already holds a lock on the table
(a report, a session left idle in transaction) makes it wait, and every query
on the table queues behind the waiting ALTER until env.py's lock_timeout ends
the attempt. Retries cannot win while that transaction stays open.

What it does, before any DDL (PostgreSQL):

1. Looks for client sessions whose transaction is older than
   ``blocker_age_seconds`` and holds or waits for a lock on the target tables
   (pg_locks joined to pg_stat_activity, its own session excluded; an
   idle-in-transaction session counts). Only client backends: an ordinary
   autovacuum cancels itself when the LOCK waits for it (one to prevent
   wraparound does not, and the LOCK then waits up to lock_timeout). Found
   ones are logged once per poll while it waits up to
   ``blocker_wait_seconds``; if they are still there, it refuses, in one line
   naming each pid, its state and age, and what to do (check what it is,
   then ``SELECT pg_terminate_backend(pid)``, or wait and rerun). The look
   runs in ``autocommit_block()``: the wait holds no transaction open.
   Settings: ``alembic -x blocker_age_seconds=5 -x blocker_wait_seconds=90
   upgrade head`` (the defaults). The wait is longer than the application
   role's ``idle_in_transaction_session_timeout`` (60s in
   references/recipes.md, recipe 15), so the server ends a forgotten session
   during it; a query still running is not ended, and causes the refusal.
2. Takes both locks at the top of the revision's transaction, in one order,
   parent first: ``LOCK TABLE users, projects IN ACCESS EXCLUSIVE MODE``.
   LOCK TABLE locks its tables one at a time, in the order written; env.py's
   lock_timeout bounds each table's wait on its own, and users stays locked
   while the LOCK waits for projects: the worst freeze of users is about two
   lock_timeouts. The ALTERs below run child first (as a revision may list
   them); without the LOCK they would take projects, then wait for users,
   and deadlock with an application transaction that reads users, then
   projects. Lock in the order the application's hot transactions take these
   tables; a foreign-key check on a write to projects locks projects first,
   then users.

The look is advice, not a lock: a transaction that starts after it still
makes the LOCK wait, for lock_timeout per table at most. Ending such
sessions for good is the application role's
``idle_in_transaction_session_timeout`` (see references/recipes.md, recipe 15).

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
SETTINGS = {"blocker_age_seconds": 5.0, "blocker_wait_seconds": 90.0}
POLL_SECONDS = 0.5

log = logging.getLogger("alembic.lock_hygiene")

# A transaction reads pg_stat_activity once and keeps that snapshot until it ends
# (whatever stats_fetch_consistency says): in autocommit every poll is a
# transaction of its own. clock_timestamp(), not now(): the age at this moment.
# Client backends only: autovacuum and parallel workers are no sessions to end.
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
    "AND a.backend_type = 'client backend' "
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
                f"than {age:g}s hold or wait for locks on them: {describe(rows)}. Check what "
                f"they are (pg_stat_activity: application_name, client_addr, query), then "
                f"end them with SELECT pg_terminate_backend(pid) for pid {pids}, or wait "
                f"for them to finish and rerun (-x blocker_wait_seconds=N waits longer)."
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
    # Child first: the LOCK above, not this order, decides the order of the locks.
    op.add_column("projects", sa.Column("suspended_at", sa.DateTime(timezone=True)))
    op.add_column("users", sa.Column("suspended_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    """Same look and lock order; drop both columns (batch mode copies them on SQLite)."""
    lock_in_order()
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("suspended_at")
    with op.batch_alter_table("projects") as batch_op:
        batch_op.drop_column("suspended_at")
